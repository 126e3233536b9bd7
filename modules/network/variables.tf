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

variable "cidr" {
  description = "IPv4 CIDR block of the VPC (/16 to /24)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 24
    error_message = "cidr must be a valid IPv4 CIDR block with a prefix length between /16 and /24 (the VPC limits)."
  }
}

variable "az_count" {
  description = "Number of Availability Zones to span (an ALB needs two)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 6 (an ALB needs subnets in at least two AZs)."
  }
}

variable "availability_zones" {
  description = "Explicit AZ names; empty means the first az_count available AZs of the region."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) >= 2
    error_message = "availability_zones must be empty (pick automatically) or list at least two zones."
  }
}

variable "nat_gateways" {
  description = "NAT gateways for the private subnets: none (VPC endpoints only), single, or per_az."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateways)
    error_message = "nat_gateways must be one of: none, single, per_az."
  }
}

variable "interface_endpoints" {
  description = "Interface VPC endpoints to create (service suffixes) so private tasks reach AWS without NAT."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"]
}

variable "ecs_instance_endpoints" {
  description = "Also create the ecs, ecs-agent and ecs-telemetry interface endpoints: container instances (ECS on EC2, ECS Managed Instances) in private subnets without NAT register with ECS only through them."
  type        = bool
  default     = false
  nullable    = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow-log group, in days (CloudWatch Logs allowed values)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the flow-log group; null creates one (rotation on, policy for CloudWatch Logs)."
  type        = string
  default     = null
}
