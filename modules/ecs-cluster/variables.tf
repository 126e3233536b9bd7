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

variable "container_insights" {
  description = "Container Insights level: enhanced (task/container metrics) or enabled."
  type        = string
  default     = "enhanced"

  validation {
    condition     = contains(["enhanced", "enabled"], var.container_insights)
    error_message = "container_insights must be enhanced or enabled (disabled is not offered)."
  }
}

variable "capacity_provider_names" {
  description = "Auto Scaling group capacity providers (gpu-capacity.cluster_capacity_provider_names) to attach beside FARGATE and FARGATE_SPOT. Never list Managed Instances providers here: they attach themselves through their cluster argument."
  type        = list(string)
  default     = []
}

variable "default_strategy" {
  description = "Default capacity provider strategy of the cluster (services set their own)."
  type = list(object({
    capacity_provider = string
    base              = optional(number, 0)
    weight            = optional(number, 1)
  }))
  default = [{ capacity_provider = "FARGATE", base = 0, weight = 1 }]
}

variable "log_retention_days" {
  description = "Retention for the cluster's exec-audit log group and the key policy's log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}
