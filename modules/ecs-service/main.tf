data "aws_region" "current" {}

locals {
  fargate        = var.capacity == "fargate"
  log_group_name = "/ecs/${var.name}"
  spot           = var.spot_percentage > 0
  container_name = "model"

  compatibility = {
    fargate           = "FARGATE"
    ec2               = "EC2"
    managed_instances = "MANAGED_INSTANCES"
  }[var.capacity]

  # Spot mix as a capacity provider strategy: base on the on-demand provider, then weights.
  # EC2 keeps its Spot mix inside the Auto Scaling group (mixed_instances_policy), so one provider.
  on_demand_provider = local.fargate ? "FARGATE" : try(var.capacity_providers.on_demand, "")
  spot_provider      = local.fargate ? "FARGATE_SPOT" : try(var.capacity_providers.spot, null)
  strategy = var.capacity == "ec2" ? [
    { capacity_provider = local.on_demand_provider, base = 0, weight = 1 },
    ] : concat(
    [{ capacity_provider = local.on_demand_provider, base = var.on_demand_base, weight = 100 - var.spot_percentage }],
    local.spot && local.spot_provider != null ? [{ capacity_provider = local.spot_provider, base = 0, weight = var.spot_percentage }] : [],
  )

  container = {
    name                   = local.container_name
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    privileged             = false
    # Spot gives a two-minute warning: let the server drain in-flight requests (max 120 s).
    stopTimeout  = local.spot ? 120 : 30
    portMappings = [{ containerPort = var.container_port, protocol = "tcp" }]
    mountPoints  = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    environment  = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
    secrets      = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
    resourceRequirements = var.gpus_per_task > 0 ? [
      { type = "GPU", value = tostring(var.gpus_per_task) },
    ] : null
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = "model"
      }
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = [local.compatibility]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn
  container_definitions    = jsonencode([{ for k, v in local.container : k => v if v != null }])

  # Writable scratch space for a read-only root filesystem (task-scoped, no host path).
  volume {
    name = "tmp"
  }

  dynamic "runtime_platform" {
    for_each = local.fargate ? [1] : []
    content {
      operating_system_family = "LINUX"
      cpu_architecture        = var.cpu_architecture
    }
  }

  dynamic "ephemeral_storage" {
    for_each = local.fargate && var.ephemeral_storage_gib != null ? [var.ephemeral_storage_gib] : []
    content {
      size_in_gib = ephemeral_storage.value
    }
  }

  tags = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Model server tasks of ${var.name}: container port from the ALB only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-tasks" })
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Container port from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.alb_security_group_id
}

# HTTPS out, only where the caller says: the VPC CIDR (interface endpoints: ECR, Logs, Secrets
# Manager, SSM), the S3 gateway endpoint's prefix list (image layers, the model), and with NAT the
# narrowest CIDRs the model server needs. Nothing else leaves the tasks.
resource "aws_vpc_security_group_egress_rule" "https" {
  count = length(var.egress_cidrs)

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to ${var.egress_cidrs[count.index]} (VPC endpoints or NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.egress_cidrs[count.index]
}

moved {
  from = aws_vpc_security_group_egress_rule.https
  to   = aws_vpc_security_group_egress_rule.https[0]
}

resource "aws_vpc_security_group_egress_rule" "https_prefix_lists" {
  count = length(var.egress_prefix_list_ids)

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to a gateway endpoint's prefix list (S3)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.egress_prefix_list_ids[count.index]
}

resource "aws_ecs_service" "this" {
  name                              = var.name
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.desired_count
  health_check_grace_period_seconds = var.health_check_grace_period_seconds
  propagate_tags                    = "SERVICE"
  enable_ecs_managed_tags           = true
  enable_execute_command            = false
  wait_for_steady_state             = false

  dynamic "capacity_provider_strategy" {
    for_each = local.strategy
    content {
      capacity_provider = capacity_provider_strategy.value.capacity_provider
      base              = capacity_provider_strategy.value.base
      weight            = capacity_provider_strategy.value.weight
    }
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  tags = var.tags

  lifecycle {
    # Application Auto Scaling owns the running count.
    ignore_changes = [desired_count]
  }
}
