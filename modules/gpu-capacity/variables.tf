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
  description = "How GPU hosts are run: ec2 (launch template + Auto Scaling group) or managed_instances (ECS Managed Instances). Fargate has no GPUs."
  type        = string

  validation {
    condition     = contains(["ec2", "managed_instances"], var.capacity)
    error_message = "capacity must be ec2 or managed_instances (Fargate has no GPUs)."
  }
}

variable "cluster_name" {
  description = "ECS cluster the hosts join (ecs-cluster.cluster_name)."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster ARN (ecs-cluster.cluster_arn); Managed Instances providers require it."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the hosts."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the hosts launch in."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must list at least one subnet."
  }
}

variable "egress_cidrs" {
  description = "IPv4 CIDRs the hosts may open HTTPS (443) connections to: the VPC CIDR (interface endpoints) and, with NAT, what they need beyond AWS endpoints. 0.0.0.0/0 by default."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.egress_cidrs : can(cidrnetmask(c))])
    error_message = "egress_cidrs must be IPv4 CIDR blocks (e.g. 10.0.0.0/16)."
  }
}

variable "egress_prefix_list_ids" {
  description = "Managed prefix lists the hosts may reach on 443, e.g. the S3 gateway endpoint's (network.s3_prefix_list_id)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.egress_prefix_list_ids : can(regex("^pl-[0-9a-f]{8,17}$", p))])
    error_message = "egress_prefix_list_ids must be prefix list IDs (pl-...)."
  }
}

variable "instance_types" {
  description = "GPU instance types; the first sizes the tasks, the others widen the Spot pools (EC2) or the allowed types (Managed Instances)."
  type        = list(string)

  validation {
    condition     = length(var.instance_types) >= 1 && alltrue([for t in var.instance_types : can(regex("^(g4dn|g4ad|g5|g5g|g6|g6e|gr6|g6f|p3|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200)\\.[a-z0-9]+$", t))])
    error_message = "instance_types must list at least one GPU instance type (g4dn, g5, g6, g6e, p3, p4d, p5 ... families)."
  }
}

variable "gpus_per_instance" {
  description = "GPUs of the smallest listed type (Managed Instances instance requirements: accelerator_count.min)."
  type        = number
  default     = 1

  validation {
    condition     = var.gpus_per_instance >= 1 && var.gpus_per_instance <= 16
    error_message = "gpus_per_instance must be between 1 and 16."
  }
}

variable "instance_requirements" {
  description = "Managed Instances: vCPU and memory bounds of acceptable hosts (allowed_instance_types narrows them further)."
  type = object({
    vcpu_min       = optional(number, 4)
    vcpu_max       = optional(number)
    memory_mib_min = optional(number, 16384)
    memory_mib_max = optional(number)
  })
  default = {}
}

variable "ami_id" {
  description = "EC2 only: AMI override; null reads the ECS-optimized AL2023 GPU AMI from SSM."
  type        = string
  default     = null
}

variable "ami_ssm_parameter" {
  description = "EC2 only: SSM parameter holding the GPU AMI ID."
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
}

variable "root_volume_size" {
  description = "Root volume size in GiB (model weights and images live there)."
  type        = number
  default     = 100

  validation {
    condition     = var.root_volume_size >= 30 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be between 30 and 16384 GiB (the GPU AMI needs at least 30)."
  }
}

variable "root_volume_kms_key_arn" {
  description = "KMS key for the encrypted root volume; null uses the account's default EBS key."
  type        = string
  default     = null
}

variable "instance_profile_arn" {
  description = "Instance profile of the hosts (iam.instance_profile_arn)."
  type        = string
}

variable "infrastructure_role_arn" {
  description = "Managed Instances only: ECS infrastructure role (iam.infrastructure_role_arn)."
  type        = string
  default     = null

  validation {
    condition     = var.capacity != "managed_instances" || var.infrastructure_role_arn != null
    error_message = "infrastructure_role_arn is required when capacity is managed_instances."
  }
}

variable "min_size" {
  description = "EC2 only: Auto Scaling group minimum (managed scaling moves it between min and max)."
  type        = number
  default     = 0

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must be 0 or more."
  }
}

variable "max_size" {
  description = "EC2 only: Auto Scaling group maximum."
  type        = number
  default     = 4

  validation {
    condition     = var.max_size >= 1 && var.max_size >= var.min_size
    error_message = "max_size must be at least 1 and not below min_size."
  }
}

variable "on_demand_base" {
  description = "EC2: instances kept on-demand before Spot applies (on_demand_base_capacity)."
  type        = number
  default     = 1

  validation {
    condition     = var.on_demand_base >= 0
    error_message = "on_demand_base must be 0 or more."
  }
}

variable "spot_percentage" {
  description = "Share of capacity above the base that runs on Spot, 0..100 (EC2: on_demand_percentage_above_base_capacity = 100 - this). Managed Instances: > 0 also creates the SPOT provider."
  type        = number
  default     = 0

  validation {
    condition     = var.spot_percentage >= 0 && var.spot_percentage <= 100
    error_message = "spot_percentage must be between 0 and 100."
  }
}

variable "target_capacity" {
  description = "EC2: managed scaling target utilisation of the group, percent (100 = no spare hosts)."
  type        = number
  default     = 100

  validation {
    condition     = var.target_capacity >= 1 && var.target_capacity <= 100
    error_message = "target_capacity must be between 1 and 100."
  }
}
