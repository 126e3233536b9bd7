variable "name" {
  description = "Deployment prefix `<app>-<environment>`; every resource name starts with it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name)) && length(var.name) <= 28
    error_message = "name must be lower-case letters, digits and hyphens, start with a letter, and be at most 28 characters (so that \"<name>-alb\" fits the 32-character ALB name limit)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cluster_name" {
  description = "ECS cluster name (ecs-cluster.cluster_name)."
  type        = string
}

variable "service_name" {
  description = "ECS service name (ecs-service.service_name)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix (alb.alb_arn_suffix)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Target group ARN suffix (alb.target_group_arn_suffix)."
  type        = string
}

variable "capacity" {
  description = "fargate, ec2 or managed_instances; ec2 adds a GPU reservation alarm."
  type        = string

  validation {
    condition     = contains(["fargate", "ec2", "managed_instances"], var.capacity)
    error_message = "capacity must be one of: fargate, ec2, managed_instances."
  }
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "thresholds" {
  description = "Alarm thresholds."
  type = object({
    http_5xx_per_minute  = optional(number, 10)
    p99_latency_seconds  = optional(number, 2)
    cpu_percent          = optional(number, 85)
    memory_percent       = optional(number, 85)
    gpu_reserved_percent = optional(number, 95)
  })
  default = {}
}

variable "budget" {
  description = "Monthly AWS Budgets cost alert for this deployment's tags; null creates none."
  type = object({
    monthly_usd   = number
    alert_email   = string
    threshold_pct = optional(number, 80)
  })
  default = null

  validation {
    condition     = var.budget == null || try(var.budget.monthly_usd > 0 && can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.budget.alert_email)), false)
    error_message = "budget.monthly_usd must be above 0 and budget.alert_email an e-mail address."
  }
}

variable "budget_cost_filter_tag" {
  description = "Tag (key=value) that scopes the budget, e.g. \"Deployment=sentiment-prod\"; null budgets the whole account."
  type        = string
  default     = null
}
