output "cluster_name" {
  description = "Cluster name (gpu-capacity, autoscaling, observability)."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "Cluster ARN (ecs-service.cluster_arn, gpu-capacity.cluster_arn)."
  value       = aws_ecs_cluster.this.arn
}

output "logs_kms_key_arn" {
  description = "KMS key for this deployment's log groups (ecs-service.log_kms_key_arn)."
  value       = aws_kms_key.logs.arn
}

output "capacity_providers" {
  description = "Capacity providers attached to the cluster."
  value       = aws_ecs_cluster_capacity_providers.this.capacity_providers
}
