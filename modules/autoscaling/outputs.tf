output "resource_id" {
  description = "service/<cluster>/<service> of the scalable target; null when create is false."
  value       = try(aws_appautoscaling_target.this[0].resource_id, null)
}

output "policy_arn" {
  description = "Target-tracking policy ARN; null when create is false."
  value       = try(aws_appautoscaling_policy.target_tracking[0].arn, null)
}

output "scheduled_action_names" {
  description = "Names of the scheduled actions."
  value       = [for a in aws_appautoscaling_scheduled_action.this : a.name]
}
