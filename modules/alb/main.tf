data "aws_elb_service_account" "this" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # Plain HTTP only when the caller chose it (allow_plain_http, validated against certificate_arn).
  # The listener and its ingress rules are conditionals on that bool, written in the resources
  # themselves, so that checkov (which evaluates module arguments) sees the listener the caller
  # gets: HTTPS passes CKV_AWS_2, CKV_AWS_103 and CKV2_AWS_20; plain HTTP fails them (and CKV_AWS_260
  # when open to 0.0.0.0/0) unless the calling workspace waives them. mlfargate generate writes those
  # waivers into the module call only when the spec chose plain HTTP.
  ingress_cidrs = var.ingress_cidrs != null ? var.ingress_cidrs : (var.internal ? [var.vpc_cidr] : ["0.0.0.0/0"])
}

# ---------------------------------------------------------------------------------------------
# Access-log bucket.

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:ALB access logs support only SSE-S3 (AES256) bucket encryption, not SSE-KMS.
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are operational data kept in-region; replicating them doubles cost for no recovery need.
  #checkov:skip=CKV2_AWS_62:No consumer needs event notifications for access-log objects.
  # name is at most 28 characters, so "<name>-lb-" fits the 37-character bucket_prefix limit.
  bucket_prefix = "${var.name}-lb-"
  force_destroy = var.force_destroy_log_bucket
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "ElbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type = "AWS"
      # Regions launched before August 2022 deliver from the regional ELB account.
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  statement {
    sid       = "LogDeliveryService"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------------------------------------
# Security group: clients in, traffic out only into the VPC on the container port.

resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "ALB for ${var.name}: client traffic in, container port out to the VPC"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

# One listener port: 443 (HTTPS) or, when the caller chose plain HTTP, 80. No port-80 redirect next
# to HTTPS: a 301 turns POST /predict into a GET in most HTTP clients; clients call https:// directly.
resource "aws_vpc_security_group_ingress_rule" "clients" {
  # A CIDR computed by another module (the VPC's) is still known at plan time: its value is configuration.
  for_each = toset(local.ingress_cidrs)

  security_group_id = aws_security_group.this.id
  description       = var.allow_plain_http ? "Plain HTTP from clients (chosen by the caller)" : "HTTPS from clients"
  ip_protocol       = "tcp"
  from_port         = var.allow_plain_http ? 80 : 443
  to_port           = var.allow_plain_http ? 80 : 443
  cidr_ipv4         = each.value
}

moved {
  from = aws_vpc_security_group_ingress_rule.https
  to   = aws_vpc_security_group_ingress_rule.clients
}

resource "aws_vpc_security_group_egress_rule" "to_targets" {
  security_group_id = aws_security_group.this.id
  description       = "To the model server tasks in the VPC"
  ip_protocol       = "tcp"
  from_port         = var.container_port
  to_port           = var.container_port
  cidr_ipv4         = var.vpc_cidr
}

# ---------------------------------------------------------------------------------------------
# Load balancer, target group, listeners.

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:WAF is optional input (waf_web_acl_arn); the association below is created when it is set.
  #checkov:skip=CKV2_AWS_76:The web ACL (and its AWSManagedRulesKnownBadInputsRuleSet) is owned by the caller and passed as waf_web_acl_arn.
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.this.id]
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; targets are private tasks reachable only from the ALB security group.
  name                 = "${var.name}-tg"
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    path                = var.health_check_path
    protocol            = "HTTP"
    port                = "traffic-port"
    interval            = var.health_check.interval
    timeout             = var.health_check.timeout
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
    matcher             = var.health_check.matcher
  }

  tags = var.tags
}

# The clients' listener answers 404 itself for every path it does not forward: /metrics, /health and
# anything else never reach the tasks from outside (the target group's health check calls the
# targets directly). Fixed responses: docs.aws.amazon.com/elasticloadbalancing/latest/application/
# load-balancer-listeners.html#fixed-response-actions (status 2XX/4XX/5XX, optional body <= 1024 bytes).
resource "aws_lb_listener" "this" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.allow_plain_http ? 80 : 443
  protocol          = var.allow_plain_http ? "HTTP" : "HTTPS"
  ssl_policy        = var.allow_plain_http ? null : var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "Not Found"
      status_code  = "404"
    }
  }

  tags = var.tags
}

moved {
  from = aws_lb_listener.https[0]
  to   = aws_lb_listener.this
}

# Only the prediction path(s) (and whatever else the caller lists, e.g. the readiness path) reach the
# service. Path patterns are case sensitive and match the whole path (docs.aws.amazon.com/
# elasticloadbalancing/latest/application/rule-condition-types.html#path-conditions); "You can specify
# up to three comparison strings per condition and up to five per rule" (listener-rules.html).
resource "aws_lb_listener_rule" "forward" {
  listener_arn = aws_lb_listener.this.arn
  priority     = 100

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    path_pattern {
      values = var.forwarded_paths
    }
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_lb.this.arn
  web_acl_arn  = var.waf_web_acl_arn
}
