output "resource_id" {
  description = "service/<cluster>/<service> of the scalable target."
  value       = aws_appautoscaling_target.this.resource_id
}

output "policy_arn" {
  description = "Target-tracking policy ARN."
  value       = aws_appautoscaling_policy.target_tracking.arn
}

output "scheduled_action_names" {
  description = "Names of the scheduled actions."
  value       = [for a in aws_appautoscaling_scheduled_action.this : a.name]
}
