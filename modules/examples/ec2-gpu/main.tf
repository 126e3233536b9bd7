# GPU model server on ECS on EC2: AL2023 GPU AMI, Auto Scaling group capacity provider with one
# on-demand host as base and 70 % Spot above it (price-capacity-optimized over g5/g6/g4dn),
# scheduled scale-down at night.

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener (in the same region); plain HTTP is an explicit choice (alb.allow_plain_http)."
  type        = string
}

locals {
  name = "llm-prod"
  tags = { Application = "llm", Environment = "prod", ManagedBy = "mlfargate" }
}

module "network" {
  source = "../../network"

  name         = local.name
  tags         = local.tags
  cidr         = "10.30.0.0/16"
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
  capacity            = "ec2"
  model_s3_uri        = "s3://acme-models/llm/v1/"
  ecr_repository_arns = [module.ecr.repository_arn]
}

module "alb" {
  source = "../../alb"

  name            = local.name
  tags            = local.tags
  vpc_id          = module.network.vpc_id
  vpc_cidr        = module.network.vpc_cidr
  subnet_ids      = module.network.public_subnet_ids
  certificate_arn = var.certificate_arn
  ingress_cidrs   = ["0.0.0.0/0"]
  forwarded_paths = ["/predict", "/ready"]
}

module "ecs_cluster" {
  source = "../../ecs-cluster"

  name                    = local.name
  tags                    = local.tags
  capacity_provider_names = module.gpu_capacity.cluster_capacity_provider_names
}

module "gpu_capacity" {
  source = "../../gpu-capacity"

  name                 = local.name
  tags                 = local.tags
  capacity             = "ec2"
  cluster_name         = module.ecs_cluster.cluster_name
  cluster_arn          = module.ecs_cluster.cluster_arn
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  instance_types       = ["g5.xlarge", "g6.xlarge", "g4dn.xlarge"]
  instance_profile_arn = module.iam.instance_profile_arn
  min_size             = 1
  max_size             = 8
  on_demand_base       = 1
  spot_percentage      = 70

  egress_cidrs           = [module.network.vpc_cidr, "0.0.0.0/0"]
  egress_prefix_list_ids = [module.network.s3_prefix_list_id]
}

module "ecs_service" {
  source = "../../ecs-service"

  name               = local.name
  tags               = local.tags
  capacity           = "ec2"
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
  capacity                = "ec2"
  cluster_name            = module.ecs_cluster.cluster_name
  service_name            = module.ecs_service.service_name
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  budget                  = { monthly_usd = 2500, alert_email = "ops@example.com" }
}

output "url" {
  description = "Where the model server answers."
  value       = "https://${module.alb.dns_name}"
}
