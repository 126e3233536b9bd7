# GPU model server on ECS Managed Instances: AWS runs the GPU hosts. Two capacity providers
# (ON_DEMAND and SPOT via capacity_option_type); the service keeps one task on-demand as base and
# places 70 % of the rest on Spot. Managed Instances providers attach through their cluster
# argument, so ecs-cluster gets no capacity_provider_names here. An internal load balancer: callers
# inside the VPC only, over plain HTTP, so this root waives checkov's HTTPS checks on the alb call.

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

locals {
  name = "vision-prod"
  tags = { Application = "vision", Environment = "prod", ManagedBy = "mlfargate" }
}

module "network" {
  source = "../../network"

  name         = local.name
  tags         = local.tags
  cidr         = "10.40.0.0/16"
  az_count     = 2
  nat_gateways = "per_az"
}

module "ecr" {
  source = "../../ecr"

  name = local.name
  tags = local.tags
}

module "iam" {
  source = "../../iam"

  name                = local.name
  tags                = local.tags
  capacity            = "managed_instances"
  model_s3_uri        = "s3://acme-models/vision/v2/"
  ecr_repository_arns = [module.ecr.repository_arn]
}

module "alb" {
  source = "../../alb"
  #checkov:skip=CKV_AWS_2:internal load balancer without a certificate: plain HTTP inside the VPC, chosen for this example
  #checkov:skip=CKV_AWS_103:internal load balancer without a certificate: plain HTTP inside the VPC, chosen for this example
  #checkov:skip=CKV2_AWS_20:internal load balancer without a certificate: plain HTTP inside the VPC, chosen for this example

  name             = local.name
  tags             = local.tags
  vpc_id           = module.network.vpc_id
  vpc_cidr         = module.network.vpc_cidr
  internal         = true
  subnet_ids       = module.network.private_subnet_ids
  allow_plain_http = true
  ingress_cidrs    = [module.network.vpc_cidr]
  forwarded_paths  = ["/predict", "/ready"]
}

module "ecs_cluster" {
  source = "../../ecs-cluster"

  name = local.name
  tags = local.tags
}

module "gpu_capacity" {
  source = "../../gpu-capacity"

  name                    = local.name
  tags                    = local.tags
  capacity                = "managed_instances"
  cluster_name            = module.ecs_cluster.cluster_name
  cluster_arn             = module.ecs_cluster.cluster_arn
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.private_subnet_ids
  instance_types          = ["g5.xlarge", "g6.xlarge", "g4dn.xlarge"]
  instance_profile_arn    = module.iam.instance_profile_arn
  infrastructure_role_arn = module.iam.infrastructure_role_arn
  spot_percentage         = 70

  egress_cidrs           = [module.network.vpc_cidr, "0.0.0.0/0"]
  egress_prefix_list_ids = [module.network.s3_prefix_list_id]
}

module "ecs_service" {
  source = "../../ecs-service"

  name               = local.name
  tags               = local.tags
  capacity           = "managed_instances"
  capacity_providers = module.gpu_capacity.capacity_provider_names
  gpus_per_task      = 1
  cpu                = 3072
  memory             = 12288
  image              = "${module.ecr.repository_url}:2.0.0"

  egress_cidrs           = [module.network.vpc_cidr, "0.0.0.0/0"]
  egress_prefix_list_ids = [module.network.s3_prefix_list_id]

  cluster_arn           = module.ecs_cluster.cluster_arn
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  alb_security_group_id = module.alb.security_group_id
  target_group_arn      = module.alb.target_group_arn
  execution_role_arn    = module.iam.execution_role_arn
  task_role_arn         = module.iam.task_role_arn
  log_kms_key_arn       = module.ecs_cluster.logs_kms_key_arn

  on_demand_base                    = 1
  spot_percentage                   = 70
  health_check_grace_period_seconds = 600
}

module "autoscaling" {
  source = "../../autoscaling"

  name               = local.name
  tags               = local.tags
  cluster_name       = module.ecs_cluster.cluster_name
  service_name       = module.ecs_service.service_name
  min_capacity       = 1
  max_capacity       = 8
  target_metric      = "requests_per_target"
  target_value       = 20
  alb_resource_label = module.alb.resource_label
  schedules = [
    { name = "night", schedule = "cron(0 22 * * ? *)", timezone = "America/New_York", min_capacity = 0, max_capacity = 1 },
    { name = "workday", schedule = "cron(0 7 ? * MON-FRI *)", timezone = "America/New_York", min_capacity = 2, max_capacity = 8 },
  ]
}

module "observability" {
  source = "../../observability"

  name                    = local.name
  tags                    = local.tags
  capacity                = "managed_instances"
  cluster_name            = module.ecs_cluster.cluster_name
  service_name            = module.ecs_service.service_name
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  budget                  = { monthly_usd = 2500, alert_email = "ops@example.com" }
}

output "url" {
  description = "Where the model server answers."
  value       = "http://${module.alb.dns_name}"
}
