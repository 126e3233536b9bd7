output "service_name" {
  description = "ECS service name (autoscaling, observability)."
  value       = aws_ecs_service.this.name
}

output "service_id" {
  description = "ECS service ARN."
  value       = aws_ecs_service.this.id
}

output "task_definition_arn" {
  description = "Task definition revision in use."
  value       = aws_ecs_task_definition.this.arn
}

output "task_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "log_group_name" {
  description = "Task log group (/ecs/<name>)."
  value       = aws_cloudwatch_log_group.this.name
}

output "capacity_provider_strategy" {
  description = "The strategy the service uses (base/weight per provider)."
  value       = local.strategy
}
