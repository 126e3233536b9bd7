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

variable "vpc_id" {
  description = "VPC of the load balancer and its target group."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the ALB may only send traffic there."
  type        = string
}

variable "internal" {
  description = "true: an internal load balancer (give private subnet_ids), reachable from inside the VPC only; false: internet-facing (public subnet_ids)."
  type        = bool
  default     = false
}

variable "subnet_ids" {
  description = "Subnets in at least two AZs: public ones for an internet-facing load balancer, private ones for an internal one."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets (an ALB needs two Availability Zones)."
  }
}

variable "container_port" {
  description = "Port the model server listens on (target group port)."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535
    error_message = "container_port must be between 1 and 65535."
  }
}

variable "health_check_path" {
  description = "HTTP path the target group probes."
  type        = string
  default     = "/health"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "health_check" {
  description = "Health-check timing; set explicitly because the API's and Terraform's defaults differ."
  type = object({
    interval            = optional(number, 15)
    timeout             = optional(number, 5)
    healthy_threshold   = optional(number, 2)
    unhealthy_threshold = optional(number, 3)
    matcher             = optional(string, "200")
  })
  default = {}

  validation {
    condition     = var.health_check.timeout < var.health_check.interval && var.health_check.interval >= 5 && var.health_check.interval <= 300
    error_message = "health_check.interval must be 5..300 seconds and larger than health_check.timeout."
  }
}

variable "deregistration_delay" {
  description = "Seconds the target group drains a deregistering task."
  type        = number
  default     = 60

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be between 0 and 3600 seconds."
  }
}

variable "idle_timeout" {
  description = "ALB idle timeout in seconds (long inference requests need more than 60)."
  type        = number
  default     = 120

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be between 1 and 4000 seconds."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener (port 443). Required unless allow_plain_http is true."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:...)."
  }
}

variable "allow_plain_http" {
  description = "Serve plain HTTP on port 80 instead of HTTPS: an explicit choice, only without certificate_arn (development, or an internal load balancer). The calling workspace must then waive checkov's HTTPS checks itself."
  type        = bool
  default     = false

  validation {
    condition     = var.allow_plain_http || var.certificate_arn != null
    error_message = "certificate_arn is required for HTTPS; to serve plain HTTP instead, set allow_plain_http = true (development or internal only)."
  }

  validation {
    condition     = !(var.allow_plain_http && var.certificate_arn != null)
    error_message = "allow_plain_http = true has no effect with certificate_arn (the listener is HTTPS only): remove one of the two."
  }
}

variable "forwarded_paths" {
  description = "Request paths the listener forwards to the service (exact paths, or ALB path patterns with * and ?); every other path gets a fixed 404 at the listener."
  type        = list(string)
  default     = ["/predict"]

  validation {
    condition     = length(var.forwarded_paths) >= 1 && length(var.forwarded_paths) <= 3 && alltrue([for p in var.forwarded_paths : can(regex("^/[A-Za-z0-9._~/*?-]{0,127}$", p))])
    error_message = "forwarded_paths must list 1 to 3 paths (one path-pattern condition takes at most 3 values), each starting with / and at most 128 characters of letters, digits and . _ ~ / - * ?."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.2 or newer only)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("TLS13|TLS-1-2", var.ssl_policy))
    error_message = "ssl_policy must be a TLS 1.2+ policy (ELBSecurityPolicy-TLS13-* or *-TLS-1-2-*)."
  }
}

variable "ingress_cidrs" {
  description = "IPv4 CIDRs allowed to reach the listener; null: 0.0.0.0/0 for an internet-facing load balancer, vpc_cidr for an internal one."
  type        = list(string)
  default     = null

  validation {
    condition     = var.ingress_cidrs == null || (length(coalesce(var.ingress_cidrs, ["x"])) >= 1 && alltrue([for c in coalesce(var.ingress_cidrs, []) : can(cidrnetmask(c)) && cidrhost(c, 0) == split("/", c)[0]]))
    error_message = "ingress_cidrs must list at least one IPv4 network in CIDR notation with no host bits set (e.g. 203.0.113.0/24)."
  }
}

variable "deletion_protection" {
  description = "Protect the ALB from deletion (turn off only to tear down an environment)."
  type        = bool
  default     = true
}

variable "waf_web_acl_arn" {
  description = "Regional WAFv2 web ACL to associate; null associates none."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)."
  }
}

variable "access_log_retention_days" {
  description = "Days access logs stay in the log bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "force_destroy_log_bucket" {
  description = "Allow deleting the access-log bucket with its objects."
  type        = bool
  default     = false
}
