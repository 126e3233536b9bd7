locals {
  ec2     = var.capacity == "ec2"
  managed = var.capacity == "managed_instances"
  ami_id  = local.ec2 ? coalesce(var.ami_id, nonsensitive(data.aws_ssm_parameter.gpu_ami[0].value)) : null

  # ECS agent settings (/etc/ecs/ecs.config): join the cluster, drain on Spot interruption notices,
  # give containers the 120 s stop timeout the task definition asks for, and keep awsvpc tasks away
  # from the instance metadata service, so they cannot take the instance role's credentials
  # (ECS_AWSVPC_BLOCK_IMDS: docs.aws.amazon.com/AmazonECS/latest/developerguide/ec2-security-considerations.html,
  # "To prevent containers run by tasks that use the awsvpc network mode from accessing the credential
  # information supplied to the Amazon EC2 instance profile ... set the ECS_AWSVPC_BLOCK_IMDS agent
  # configuration variable to true"). The launch template's IMDSv2 with hop limit 1 stays as well.
  user_data = <<-EOT
    #!/bin/bash
    cat <<'CONFIG' >> /etc/ecs/ecs.config
    ECS_CLUSTER=${var.cluster_name}
    ECS_ENABLE_GPU_SUPPORT=true
    ECS_ENABLE_SPOT_INSTANCE_DRAINING=true
    ECS_CONTAINER_STOP_TIMEOUT=120s
    ECS_ENABLE_CONTAINER_METADATA=true
    ECS_AWSVPC_BLOCK_IMDS=true
    CONFIG
  EOT

  mi_providers = local.managed ? merge(
    { on_demand = "ON_DEMAND" },
    var.spot_percentage > 0 ? { spot = "SPOT" } : {},
  ) : {}
}

data "aws_ssm_parameter" "gpu_ami" {
  count = local.ec2 && var.ami_id == null ? 1 : 0
  name  = var.ami_ssm_parameter
}

# Hosts need no inbound traffic: awsvpc tasks get their own ENIs and security groups.
resource "aws_security_group" "hosts" {
  name        = "${var.name}-gpu-hosts"
  description = "GPU hosts of ${var.name}: no inbound, HTTPS out (ECS, ECR, SSM)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-gpu-hosts" })
}

# HTTPS out only where the caller says: the VPC CIDR (interface endpoints), the S3 gateway
# endpoint's prefix list (image layers) and, with NAT, the CIDRs beyond them.
resource "aws_vpc_security_group_egress_rule" "hosts_https" {
  count = length(var.egress_cidrs)

  security_group_id = aws_security_group.hosts.id
  description       = "HTTPS to ${var.egress_cidrs[count.index]} (ECS, ECR, SSM: endpoints or NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.egress_cidrs[count.index]
}

moved {
  from = aws_vpc_security_group_egress_rule.hosts_https
  to   = aws_vpc_security_group_egress_rule.hosts_https[0]
}

resource "aws_vpc_security_group_egress_rule" "hosts_https_prefix_lists" {
  count = length(var.egress_prefix_list_ids)

  security_group_id = aws_security_group.hosts.id
  description       = "HTTPS to a gateway endpoint's prefix list (S3: image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.egress_prefix_list_ids[count.index]
}

# ---------------------------------------------------------------------------------------------
# EC2: launch template + Auto Scaling group with a mixed-instances (Spot) policy.

resource "aws_launch_template" "this" {
  count = local.ec2 ? 1 : 0

  name_prefix            = "${var.name}-gpu-"
  image_id               = local.ami_id
  instance_type          = var.instance_types[0]
  update_default_version = true
  user_data              = base64encode(local.user_data)
  vpc_security_group_ids = [aws_security_group.hosts.id]

  iam_instance_profile {
    arn = var.instance_profile_arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.root_volume_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-gpu" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = var.tags
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  count = local.ec2 ? 1 : 0

  name_prefix           = "${var.name}-gpu-"
  vpc_zone_identifier   = var.subnet_ids
  min_size              = var.min_size
  max_size              = var.max_size
  protect_from_scale_in = true
  capacity_rebalance    = true
  health_check_type     = "EC2"

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = var.on_demand_base
      on_demand_percentage_above_base_capacity = 100 - var.spot_percentage
      on_demand_allocation_strategy            = "prioritized"
      spot_allocation_strategy                 = "price-capacity-optimized"
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.this[0].id
        version            = "$Latest"
      }

      dynamic "override" {
        for_each = var.instance_types
        content {
          instance_type = override.value
        }
      }
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = var.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Managed scaling owns the desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "asg" {
  count = local.ec2 ? 1 : 0

  name = "${var.name}-gpu"

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.this[0].arn
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = var.target_capacity
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 2
      instance_warmup_period    = 300
    }
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# Managed Instances: one provider per purchase option. With managed_instances_provider the
# cluster argument is required and the provider must not be listed in
# aws_ecs_cluster_capacity_providers (hashicorp/terraform-provider-aws#44783).

resource "aws_ecs_capacity_provider" "managed" {
  for_each = local.mi_providers

  name    = "${var.name}-${replace(each.key, "_", "-")}"
  cluster = var.cluster_name

  managed_instances_provider {
    infrastructure_role_arn = var.infrastructure_role_arn
    propagate_tags          = "CAPACITY_PROVIDER"

    instance_launch_template {
      ec2_instance_profile_arn = var.instance_profile_arn
      capacity_option_type     = each.value
      monitoring               = "DETAILED"

      network_configuration {
        subnets         = var.subnet_ids
        security_groups = [aws_security_group.hosts.id]
      }

      storage_configuration {
        storage_size_gib = var.root_volume_size
      }

      instance_requirements {
        allowed_instance_types    = var.instance_types
        accelerator_types         = ["gpu"]
        accelerator_manufacturers = ["nvidia"]

        accelerator_count {
          min = var.gpus_per_instance
        }

        vcpu_count {
          min = var.instance_requirements.vcpu_min
          max = var.instance_requirements.vcpu_max
        }

        memory_mib {
          min = var.instance_requirements.memory_mib_min
          max = var.instance_requirements.memory_mib_max
        }
      }
    }
  }

  tags = var.tags
}
