terraform {
  # 1.10: ephemeral values; 1.9+: variable validations may refer to other variables (used here).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28.0 adds capacity_option_type (ON_DEMAND | SPOT) to the Managed Instances capacity
      # provider (managed_instances_provider: 6.15.0). Major 7 may break arguments: opt in explicitly.
      version = ">= 6.28.0, < 7.0.0"
    }
  }
}
