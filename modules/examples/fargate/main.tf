# CPU-only model server on Fargate with a Fargate Spot mix: one on-demand task as base, then 70 %
# of the tasks above it on FARGATE_SPOT.

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
  name = "sentiment-prod"
  tags = { Application = "sentiment", Environment = "prod", ManagedBy = "mlfargate" }
}

module "network" {
  source = "../../network"

  name         = local.name
  tags         = local.tags
  cidr         = "10.20.0.0/16"
  az_count     = 2
  nat_gateways = "single"
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
  capacity            = "fargate"
  model_s3_uri        = "s3://acme-models/sentiment/v3/"
  ecr_repository_arns = [module.ecr.repository_arn]
  secret_arns         = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:sentiment/api-key-AbCdEf"]
}

module "alb" {
  source = "../../alb"

  name              = local.name
  tags              = local.tags
  vpc_id            = module.network.vpc_id
  vpc_cidr          = module.network.vpc_cidr
  subnet_ids        = module.network.public_subnet_ids
  container_port    = 8080
  health_check_path = "/ready"
  certificate_arn   = var.certificate_arn
  ingress_cidrs     = ["0.0.0.0/0"]
  forwarded_paths   = ["/predict", "/ready"] # everything else (/metrics, ...) gets a 404 at the listener
}

module "ecs_cluster" {
  source = "../../ecs-cluster"

  name = local.name
  tags = local.tags
}

module "ecs_service" {
  source = "../../ecs-service"

  name     = local.name
  tags     = local.tags
  capacity = "fargate"
  cpu      = 2048
  memory   = 8192
  image    = "${module.ecr.repository_url}:1.4.2"

  environment = { MODEL_PATH = "s3://acme-models/sentiment/v3/", MAX_BATCH_SIZE = "32" }
  secrets     = { API_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sentiment/api-key-AbCdEf" }

  # HTTPS out to the VPC (interface endpoints), S3 (gateway endpoint) and, through the NAT gateway, anywhere.
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

  on_demand_base  = 1
  spot_percentage = 70
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
  target_value       = 100
  alb_resource_label = module.alb.resource_label
}

module "observability" {
  source = "../../observability"

  name                    = local.name
  tags                    = local.tags
  capacity                = "fargate"
  cluster_name            = module.ecs_cluster.cluster_name
  service_name            = module.ecs_service.service_name
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  alarm_emails            = ["ops@example.com"]
  budget                  = { monthly_usd = 500, alert_email = "ops@example.com" }
}

output "url" {
  description = "Where the model server answers."
  value       = "https://${module.alb.dns_name}"
}
