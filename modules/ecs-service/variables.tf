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
  description = "Where tasks run: fargate (CPU only), ec2 or managed_instances (GPU capable)."
  type        = string

  validation {
    condition     = contains(["fargate", "ec2", "managed_instances"], var.capacity)
    error_message = "capacity must be one of: fargate, ec2, managed_instances."
  }
}

variable "gpus_per_task" {
  description = "GPUs reserved per task (resourceRequirements GPU); 0 for CPU-only. Fargate has no GPUs."
  type        = number
  default     = 0

  validation {
    condition     = var.gpus_per_task >= 0 && var.gpus_per_task <= 8 && floor(var.gpus_per_task) == var.gpus_per_task
    error_message = "gpus_per_task must be a whole number from 0 to 8."
  }

  validation {
    condition     = !(var.capacity == "fargate" && var.gpus_per_task > 0)
    error_message = "Fargate has no GPUs: a task with gpus_per_task > 0 needs capacity ec2 or managed_instances."
  }
}

variable "cpu" {
  description = "Task CPU units (Fargate: 256..16384 in valid pairs with memory)."
  type        = number

  validation {
    condition     = var.cpu >= 128 && var.cpu <= 196608
    error_message = "cpu must be between 128 and 196608 units."
  }
}

variable "memory" {
  description = "Task memory in MiB (Fargate: a valid pair with cpu)."
  type        = number

  validation {
    # Fargate pairs (docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
    condition = var.capacity != "fargate" || (
      (var.cpu == 256 && contains([512, 1024, 2048], var.memory)) ||
      (var.cpu == 512 && var.memory >= 1024 && var.memory <= 4096 && var.memory % 1024 == 0) ||
      (var.cpu == 1024 && var.memory >= 2048 && var.memory <= 8192 && var.memory % 1024 == 0) ||
      (var.cpu == 2048 && var.memory >= 4096 && var.memory <= 16384 && var.memory % 1024 == 0) ||
      (var.cpu == 4096 && var.memory >= 8192 && var.memory <= 30720 && var.memory % 1024 == 0) ||
      (var.cpu == 8192 && var.memory >= 16384 && var.memory <= 61440 && var.memory % 4096 == 0) ||
      (var.cpu == 16384 && var.memory >= 32768 && var.memory <= 122880 && var.memory % 8192 == 0)
    )
    error_message = "memory is not valid for this Fargate cpu: 256 -> 512/1024/2048; 512 -> 1024..4096 (1024 steps); 1024 -> 2048..8192; 2048 -> 4096..16384; 4096 -> 8192..30720; 8192 -> 16384..61440 (4096 steps); 16384 -> 32768..122880 (8192 steps)."
  }
}

variable "image" {
  description = "Container image (registry/repository:tag or @digest)."
  type        = string
}

variable "container_port" {
  description = "Port the model server listens on."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535
    error_message = "container_port must be between 1 and 65535."
  }
}

variable "environment" {
  description = "Plain, non-secret environment variables. Secrets go in `secrets`."
  type        = map(string)
  default     = {}

  validation {
    # The same expression as mlfargate's spec rule (mlfargate/spec/rules.py CREDENTIAL_NAME).
    condition     = alltrue([for k in keys(var.environment) : !can(regex("(?i)((^|_)(KEY|SECRET|TOKEN)$|PASSWORD|PASSWD|SECRET|CREDENTIAL|ACCESS_KEY|PRIVATE_KEY)", k))])
    error_message = "environment must not carry credentials (a name like *_KEY, *_SECRET, *_TOKEN, *PASSWORD*, *CREDENTIAL*): pass them through `secrets` as Secrets Manager or SSM Parameter Store ARNs."
  }
}

variable "secrets" {
  description = "Container secrets: variable name -> Secrets Manager or SSM Parameter Store ARN (injected through the container definition's secrets/valueFrom)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:|ssm:[a-z0-9-]+:[0-9]{12}:parameter/)[^*?]+$", arn))])
    error_message = "secrets values must be full Secrets Manager secret or SSM Parameter Store parameter ARNs (arn:aws:secretsmanager:<region>:<account>:secret:... or arn:aws:ssm:<region>:<account>:parameter/...), without wildcards."
  }
}

variable "cluster_arn" {
  description = "ECS cluster ARN (ecs-cluster.cluster_arn)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must list at least one subnet."
  }
}

variable "egress_cidrs" {
  description = "IPv4 CIDRs the tasks may open HTTPS (443) connections to: the VPC CIDR (interface endpoints) and, with NAT, what the model server needs beyond AWS. 0.0.0.0/0 by default."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.egress_cidrs : can(cidrnetmask(c))])
    error_message = "egress_cidrs must be IPv4 CIDR blocks (e.g. 10.0.0.0/16)."
  }
}

variable "egress_prefix_list_ids" {
  description = "Managed prefix lists the tasks may reach on 443, e.g. the S3 gateway endpoint's (network.s3_prefix_list_id)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.egress_prefix_list_ids : can(regex("^pl-[0-9a-f]{8,17}$", p))])
    error_message = "egress_prefix_list_ids must be prefix list IDs (pl-...)."
  }
}

variable "alb_security_group_id" {
  description = "ALB security group (alb.security_group_id): the only source allowed to reach the tasks."
  type        = string
}

variable "target_group_arn" {
  description = "Target group the service registers its tasks in (alb.target_group_arn)."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role (iam.execution_role_arn)."
  type        = string
}

variable "task_role_arn" {
  description = "Task role (iam.task_role_arn); must differ from the execution role."
  type        = string

  validation {
    condition     = var.task_role_arn != var.execution_role_arn
    error_message = "task_role_arn must differ from execution_role_arn (separate what the app may do from what ECS needs)."
  }
}

variable "capacity_providers" {
  description = "ec2 / managed_instances: providers from gpu-capacity.capacity_provider_names ({on_demand, spot}). Fargate uses FARGATE / FARGATE_SPOT."
  type = object({
    on_demand = string
    spot      = optional(string)
  })
  default = null

  validation {
    condition     = var.capacity == "fargate" || var.capacity_providers != null
    error_message = "capacity_providers is required for ec2 and managed_instances (wire gpu-capacity.capacity_provider_names)."
  }
}

variable "on_demand_base" {
  description = "Tasks placed on the on-demand provider before weights apply (Fargate, Managed Instances). EC2 keeps its base in the Auto Scaling group."
  type        = number
  default     = 1

  validation {
    condition     = var.on_demand_base >= 0 && var.on_demand_base <= 100000
    error_message = "on_demand_base must be between 0 and 100000."
  }
}

variable "spot_percentage" {
  description = "Share of tasks above the base placed on Spot (Fargate: FARGATE_SPOT weight; Managed Instances: SPOT provider weight). Also raises stopTimeout to 120 s."
  type        = number
  default     = 0

  validation {
    condition     = var.spot_percentage >= 0 && var.spot_percentage <= 100
    error_message = "spot_percentage must be between 0 and 100."
  }
}

variable "desired_count" {
  description = "Initial task count (autoscaling takes over afterwards)."
  type        = number
  default     = 1

  validation {
    condition     = var.desired_count >= 0
    error_message = "desired_count must be 0 or more."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds the ALB health checks are ignored after a task starts (model loading)."
  type        = number
  default     = 300

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "health_check_grace_period_seconds must be 0 or more."
  }
}

variable "log_retention_days" {
  description = "Retention of the task log group /ecs/<name>."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key of the task log group (ecs-cluster.logs_kms_key_arn)."
  type        = string
}

variable "cpu_architecture" {
  description = "Fargate CPU architecture: X86_64 or ARM64 (Fargate and Fargate Spot run both; ARM64 on Fargate Spot since 2024-09, platform version 1.4.0+)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "ephemeral_storage_gib" {
  description = "Fargate only: task ephemeral storage in GiB (21..200); null keeps the 20 GiB default."
  type        = number
  default     = null

  validation {
    condition     = var.ephemeral_storage_gib == null || (coalesce(var.ephemeral_storage_gib, 21) >= 21 && coalesce(var.ephemeral_storage_gib, 21) <= 200)
    error_message = "ephemeral_storage_gib must be between 21 and 200."
  }
}
