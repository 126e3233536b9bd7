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

variable "repository_name" {
  description = "Repository name; null uses `name`."
  type        = string
  default     = null

  validation {
    condition     = var.repository_name == null || can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.repository_name))
    error_message = "repository_name must be lower-case letters, digits and . _ - / separators (ECR naming rules)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for image encryption; null uses the AWS managed ECR key (still KMS)."
  type        = string
  default     = null
}

variable "keep_tagged_images" {
  description = "Lifecycle policy: number of tagged images to keep."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_tagged_images >= 1 && var.keep_tagged_images <= 1000
    error_message = "keep_tagged_images must be between 1 and 1000."
  }
}

variable "untagged_expiry_days" {
  description = "Lifecycle policy: untagged images expire after this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "replication_regions" {
  description = "Regions to replicate images to (this account). Replication is a registry-wide setting: only one module instance per account may set it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.replication_regions : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", r))])
    error_message = "replication_regions must hold AWS region names such as us-west-2."
  }
}

variable "pull_principal_arns" {
  description = "IAM principals (e.g. the task execution role) allowed to pull through the repository policy; empty adds no repository policy."
  type        = list(string)
  default     = []
}
