data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  log_group_name = coalesce(var.log_group_name, "/ecs/${var.name}")
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.log_group_name}"

  model_path   = var.model_s3_uri == null ? "" : trimprefix(var.model_s3_uri, "s3://")
  model_bucket = split("/", local.model_path)[0]
  model_key    = var.model_s3_uri == null ? "" : trimprefix(local.model_path, "${local.model_bucket}/")
  # The model server's rule: a URI ending in "/" is a prefix (every object under it), anything else one
  # object. Grant exactly that: "v3/*" must not also match "v30/...", and an object is not a prefix.
  model_objects = endswith(local.model_key, "/") ? "${local.model_key}*" : local.model_key

  secretsmanager_arns = [for a in var.secret_arns : a if split(":", a)[2] == "secretsmanager"]
  ssm_parameter_arns  = [for a in var.secret_arns : a if split(":", a)[2] == "ssm"]

  create_instance_role = var.capacity != "fargate"
  # Name rule for Managed Instances: AmazonECSInfrastructureRolePolicyForManagedInstances scopes
  # iam:PassRole to role/ecsInstanceRole* (docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instances-instance-profile.html).
  instance_role_name = "ecsInstanceRole-${var.name}"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Task execution role: pull the image, write logs, read the injected secrets. Nothing else.

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS task execution role for ${var.name} (image pull, logs, secrets)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "EcrAuthToken"
    # GetAuthorizationToken does not support resource-level permissions.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []
    content {
      sid       = "EcrPull"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      resources = var.ecr_repository_arns
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  # Container secrets (ECS valueFrom): each service's read action on exactly its ARNs
  # (docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html and
  # secrets-envvar-ssm-paramstore.html: secretsmanager:GetSecretValue, ssm:GetParameters, and
  # kms:Decrypt only for a customer managed key).
  dynamic "statement" {
    for_each = length(local.secretsmanager_arns) > 0 ? [1] : []
    content {
      sid       = "InjectSecretsManagerSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secretsmanager_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.ssm_parameter_arns) > 0 ? [1] : []
    content {
      sid       = "InjectSsmParameters"
      actions   = ["ssm:GetParameters"]
      resources = local.ssm_parameter_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------------------------------------
# Task role: what the model server itself may do — read its model prefix, nothing else.

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "ECS task role for ${var.name} (read-only access to the model prefix)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  count = var.model_s3_uri == null ? 0 : 1

  statement {
    sid       = "ReadModelObjects"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${local.model_bucket}/${local.model_objects}"]
  }

  statement {
    sid       = "ListModelPrefix"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${local.model_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.model_objects]
    }
  }

  dynamic "statement" {
    for_each = var.model_kms_key_arn == null ? [] : [var.model_kms_key_arn]
    content {
      sid       = "DecryptModel"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  count = var.model_s3_uri == null ? 0 : 1

  name   = "read-model"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task[0].json
}

# ---------------------------------------------------------------------------------------------
# Container-instance role and profile (GPU hosts on EC2, Managed Instances).

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count = local.create_instance_role ? 1 : 0

  name               = local.instance_role_name
  description        = "ECS container instance role for ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "instance" {
  count = local.create_instance_role ? 1 : 0

  role = aws_iam_role.instance[0].name
  # AWS managed policies for the ECS agent: AmazonEC2ContainerServiceforEC2Role (EC2) and
  # AmazonECSInstanceRolePolicyForManagedInstances (Managed Instances).
  policy_arn = var.capacity == "ec2" ? "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" : "arn:${local.partition}:iam::aws:policy/AmazonECSInstanceRolePolicyForManagedInstances"
}

resource "aws_iam_instance_profile" "instance" {
  count = local.create_instance_role ? 1 : 0

  name = local.instance_role_name
  role = aws_iam_role.instance[0].name
  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# Infrastructure role: lets ECS launch and manage the Managed Instances.

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "infrastructure" {
  count = var.capacity == "managed_instances" ? 1 : 0

  name               = "${var.name}-ecs-infrastructure"
  description        = "ECS infrastructure role for ${var.name} Managed Instances"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "infrastructure" {
  count = var.capacity == "managed_instances" ? 1 : 0

  role       = aws_iam_role.infrastructure[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForManagedInstances"
}
