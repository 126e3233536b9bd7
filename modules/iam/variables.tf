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

variable "capacity" {
  description = "Capacity kind: fargate, ec2 (also creates the GPU host instance role/profile) or managed_instances (also the infrastructure role)."
  type        = string

  validation {
    condition     = contains(["fargate", "ec2", "managed_instances"], var.capacity)
    error_message = "capacity must be one of: fargate, ec2, managed_instances."
  }
}

variable "model_s3_uri" {
  description = "The model the task role may read: s3://bucket/prefix/ (ending in /: every object under the prefix) or s3://bucket/key (that one object); GetObject and ListBucket are limited to it. null grants no S3 access."
  type        = string
  default     = null

  validation {
    condition     = var.model_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.model_s3_uri))
    error_message = "model_s3_uri must look like s3://bucket/prefix/ or s3://bucket/key (a valid bucket name and a key or prefix)."
  }

  # The grant is exactly the prefix or the object: no IAM wildcard (* ?) or policy variable ($ and {),
  # and no key that is only slashes or has an empty, "." or ".." segment (s3://bucket/, s3://bucket//,
  # s3://bucket/* would all widen it to the bucket). The same rule as mlfargate's spec rules
  # (mlfargate/spec/rules.py model_uri_error; tests/generator/test_one_fact.py compares them).
  validation {
    condition     = var.model_s3_uri == null || !can(regex("[*?]|[$][{]", coalesce(var.model_s3_uri, "-")))
    error_message = "model_s3_uri must not contain * or ? (IAM wildcards) or a dollar sign followed by a brace (an IAM policy variable): name one prefix ending in / or one object."
  }

  validation {
    condition     = var.model_s3_uri == null || !can(regex("^s3://[^/]+/(/|.*//|(.*/)?[.][.]?(/|$))", coalesce(var.model_s3_uri, "-")))
    error_message = "model_s3_uri must name a prefix or an object below the bucket: no empty, \".\" or \"..\" path segment (s3://bucket//x, s3://bucket/./x)."
  }
}

variable "model_kms_key_arn" {
  description = "KMS key that encrypts the model objects (SSE-KMS); null when the bucket uses SSE-S3."
  type        = string
  default     = null
}

variable "ecr_repository_arns" {
  description = "ECR repositories the execution role may pull from."
  type        = list(string)
  default     = []
}

variable "log_group_name" {
  description = "Name of the task log group the execution role writes to (the ecs-service module uses /ecs/<name>)."
  type        = string
  default     = null
}

variable "secret_arns" {
  description = "Secrets Manager secret ARNs and SSM parameter ARNs the execution role may read to inject container secrets (ECS valueFrom); exactly these, no wildcards."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.secret_arns : can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:|ssm:[a-z0-9-]+:[0-9]{12}:parameter/)[^*?]+$", a))])
    error_message = "secret_arns must be full Secrets Manager secret or SSM parameter ARNs (arn:aws:secretsmanager:<region>:<account>:secret:<name> or arn:aws:ssm:<region>:<account>:parameter/<name>), without wildcards."
  }
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt those secrets (kms:Decrypt for the execution role); not needed for AWS managed keys."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.secret_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", k))])
    error_message = "secret_kms_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>), not aliases or wildcards."
  }
}
