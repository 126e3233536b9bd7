output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch LoadBalancer dimension)."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name clients (or a Route 53 alias) use."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Hosted zone of the load balancer, for Route 53 alias records."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "ALB security group (ecs-service.alb_security_group_id: tasks accept traffic only from it)."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "Target group (ecs-service.target_group_arn)."
  value       = aws_lb_target_group.this.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch TargetGroup dimension)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id>: autoscaling.alb_resource_label for ALBRequestCountPerTarget."
  value       = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
}

output "listener_arn" {
  description = "The clients' listener (HTTPS on 443, or plain HTTP on 80 when allow_plain_http); add listener rules to it for more paths."
  value       = aws_lb_listener.this.arn
}

output "access_log_bucket" {
  description = "Bucket receiving the ALB access logs."
  value       = aws_s3_bucket.logs.id
}
