output "capacity_provider_names" {
  description = "Every capacity provider this module made: on_demand and spot (nullable) for ecs-service.capacity_providers."
  value = {
    on_demand = local.ec2 ? aws_ecs_capacity_provider.asg[0].name : aws_ecs_capacity_provider.managed["on_demand"].name
    spot      = local.managed && var.spot_percentage > 0 ? aws_ecs_capacity_provider.managed["spot"].name : null
  }
}

output "cluster_capacity_provider_names" {
  description = "Providers that must be attached with aws_ecs_cluster_capacity_providers (ecs-cluster.capacity_provider_names): the ASG provider; never Managed Instances ones."
  value       = aws_ecs_capacity_provider.asg[*].name
}

output "autoscaling_group_name" {
  description = "EC2 only: Auto Scaling group name (observability GPU alarms); null otherwise."
  value       = one(aws_autoscaling_group.this[*].name)
}

output "host_security_group_id" {
  description = "Security group of the GPU hosts."
  value       = aws_security_group.hosts.id
}

output "ami_id" {
  description = "EC2 only: the AMI the launch template uses."
  value       = local.ami_id
}
