variable "name" {
  description = "Deployment prefix `<app>-<environment>`; every resource name starts with it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name)) && length(var.name) <= 28
    error_message = "name must be lower-case letters, digits and hyphens, start with a letter, and be at most 28 characters (so that \"<name>-alb\" fits the 32-character ALB name limit)."
  }
}

variable "create" {
  description = "Register the scalable target, policy and schedules. false registers nothing and leaves the service at its desired count (mlfargate holds a service at 0 tasks this way until its image is pushed); true again registers them, and registering moves the service's count into [min_capacity, max_capacity]."
  type        = bool
  default     = true
  nullable    = false
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

variable "min_capacity" {
  description = "Fewest tasks."
  type        = number
  default     = 1

  validation {
    condition     = var.min_capacity >= 0
    error_message = "min_capacity must be 0 or more."
  }
}

variable "max_capacity" {
  description = "Most tasks."
  type        = number
  default     = 4

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity >= var.min_capacity
    error_message = "max_capacity must be at least 1 and not below min_capacity."
  }
}

variable "target_metric" {
  description = "Target-tracking metric: cpu, memory or requests_per_target (ALBRequestCountPerTarget)."
  type        = string
  default     = "cpu"

  validation {
    condition     = contains(["cpu", "memory", "requests_per_target"], var.target_metric)
    error_message = "target_metric must be one of: cpu, memory, requests_per_target."
  }
}

variable "target_value" {
  description = "Target value: percent for cpu/memory, requests per task per minute for requests_per_target."
  type        = number
  default     = 60

  validation {
    condition     = var.target_value > 0 && (var.target_metric == "requests_per_target" || var.target_value <= 100)
    error_message = "target_value must be above 0 (and at most 100 for cpu or memory percentages)."
  }
}

variable "alb_resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id> (alb.resource_label); required for requests_per_target."
  type        = string
  default     = null

  validation {
    condition     = var.target_metric != "requests_per_target" || can(regex("^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$", var.alb_resource_label))
    error_message = "alb_resource_label (app/<lb>/<id>/targetgroup/<tg>/<id>) is required when target_metric is requests_per_target."
  }
}

variable "scale_in_cooldown" {
  description = "Seconds between scale-in steps (model servers start slowly: be patient)."
  type        = number
  default     = 300
}

variable "scale_out_cooldown" {
  description = "Seconds between scale-out steps."
  type        = number
  default     = 60
}

variable "schedules" {
  description = "Scheduled min/max changes: name, six-field AWS cron `cron(min hour dom month dow year)`, IANA timezone, and the new min and/or max."
  type = list(object({
    name         = string
    schedule     = string
    timezone     = optional(string, "UTC")
    min_capacity = optional(number)
    max_capacity = optional(number)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.schedules : can(regex("^[A-Za-z0-9_-]{1,64}$", s.name))])
    error_message = "schedules[*].name must be 1-64 letters, digits, - or _."
  }

  validation {
    condition     = alltrue([for s in var.schedules : can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", s.schedule)) && length(regexall("\\?", s.schedule)) == 1])
    error_message = "schedules[*].schedule must be a six-field AWS cron: cron(minutes hours day-of-month month day-of-week year), with ? in exactly one of the day fields."
  }

  validation {
    condition     = alltrue([for s in var.schedules : s.min_capacity != null || s.max_capacity != null])
    error_message = "each schedule must set min_capacity, max_capacity or both."
  }

  validation {
    condition     = alltrue([for s in var.schedules : s.min_capacity == null || s.max_capacity == null || coalesce(s.min_capacity, 0) <= coalesce(s.max_capacity, 0)])
    error_message = "a schedule's min_capacity must not exceed its max_capacity."
  }

  validation {
    condition     = length(distinct([for s in var.schedules : s.name])) == length(var.schedules)
    error_message = "schedule names must be unique."
  }
}
