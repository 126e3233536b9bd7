output "alarm_topic_arn" {
  description = "SNS topic receiving every alarm."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Names of the alarms."
  value = concat(
    [aws_cloudwatch_metric_alarm.http_5xx.alarm_name, aws_cloudwatch_metric_alarm.p99_latency.alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name, aws_cloudwatch_metric_alarm.cpu.alarm_name,
    aws_cloudwatch_metric_alarm.memory.alarm_name],
    aws_cloudwatch_metric_alarm.gpu_reservation[*].alarm_name,
  )
}

output "budget_name" {
  description = "AWS Budgets budget name; null when no budget is given."
  value       = one(aws_budgets_budget.monthly[*].name)
}
