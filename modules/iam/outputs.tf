output "execution_role_arn" {
  description = "Task execution role ARN (ecs-service.execution_role_arn)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "Task role ARN (ecs-service.task_role_arn)."
  value       = aws_iam_role.task.arn
}

output "instance_profile_arn" {
  description = "Instance profile for GPU hosts / Managed Instances (gpu-capacity.instance_profile_arn); null on Fargate."
  value       = one(aws_iam_instance_profile.instance[*].arn)
}

output "instance_role_name" {
  description = "Container-instance role name (starts with ecsInstanceRole); null on Fargate."
  value       = one(aws_iam_role.instance[*].name)
}

output "infrastructure_role_arn" {
  description = "ECS infrastructure role for Managed Instances (gpu-capacity.infrastructure_role_arn); null otherwise."
  value       = one(aws_iam_role.infrastructure[*].arn)
}
