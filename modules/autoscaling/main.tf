locals {
  predefined = {
    cpu                 = "ECSServiceAverageCPUUtilization"
    memory              = "ECSServiceAverageMemoryUtilization"
    requests_per_target = "ALBRequestCountPerTarget"
  }[var.target_metric]
}

resource "aws_appautoscaling_target" "this" {
  count = var.create ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${var.service_name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity

  tags = var.tags
}

resource "aws_appautoscaling_policy" "target_tracking" {
  count = var.create ? 1 : 0

  name               = "${var.name}-${replace(var.target_metric, "_", "-")}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_value
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = local.predefined
      resource_label         = var.target_metric == "requests_per_target" ? var.alb_resource_label : null
    }
  }
}

resource "aws_appautoscaling_scheduled_action" "this" {
  for_each = var.create ? { for s in var.schedules : s.name => s } : {}

  name               = "${var.name}-${each.key}"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  schedule           = each.value.schedule
  timezone           = each.value.timezone

  scalable_target_action {
    min_capacity = each.value.min_capacity
    max_capacity = each.value.max_capacity
  }
}

# 1.1.0 added `create` (count): state from 1.0.0 moves to the first instance, nothing is re-created.
moved {
  from = aws_appautoscaling_target.this
  to   = aws_appautoscaling_target.this[0]
}

moved {
  from = aws_appautoscaling_policy.target_tracking
  to   = aws_appautoscaling_policy.target_tracking[0]
}
