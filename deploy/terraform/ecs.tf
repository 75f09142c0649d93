# The service on ECS Fargate: two roles (the execution role pulls the image
# and writes logs; the task role may sign with the KMS key, or read the key's
# secret, and nothing else), the log group, the task definition and the
# service behind the ALB.

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# One statement, by signing_key: sign with the KMS key and read its public
# key (the server checks at start that it is the key CloudFront knows), or
# read the secret holding the private key.
data "aws_iam_policy_document" "task" {
  dynamic "statement" {
    for_each = local.kms ? [1] : []
    content {
      sid       = "SignWithTheKey"
      actions   = ["kms:Sign", "kms:GetPublicKey"]
      resources = [aws_kms_key.signing[0].arn]
    }
  }
  dynamic "statement" {
    for_each = local.kms ? [] : [1]
    content {
      sid       = "ReadTheSigningKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.key[0].arn]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "cloudfront-signing-key"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "cfcookies tasks"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "API port from the load balancer only"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "KMS or Secrets Manager, ECR, CloudWatch Logs and the OIDC issuer"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  lifecycle {
    precondition {
      condition     = local.same_origin || (var.cookie_domain != "" && length(var.app_origins) > 0)
      error_message = "cross-subdomain needs cookie_domain (the parent domain, e.g. example.com) and app_origins (the SPA's origins)."
    }
    precondition {
      condition     = local.same_origin || endswith(var.cloudfront_domain, ".${var.cookie_domain}") || var.cloudfront_domain == var.cookie_domain
      error_message = "cookie_domain must cover cloudfront_domain, or the browser never sends the cookies to CloudFront."
    }
    precondition {
      condition     = !local.same_origin || length(var.app_origins) == 0
      error_message = "same-origin serves the SPA from the distribution itself: leave app_origins empty (no CORS is involved)."
    }
    precondition {
      condition     = startswith(var.media_path, trimsuffix(var.media_path_pattern, "*"))
      error_message = "media_path must lie under media_path_pattern, or the signed cookies grant paths the media behaviour does not serve."
    }
  }
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"
  # The ALB waits for /readyz, which may take a few retries of KMS or Secrets Manager.
  health_check_grace_period_seconds = 60

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = local.container_definition.name
    container_port   = 8080
  }

  # The autoscaler (autoscaling.tf) owns the task count once the service
  # exists: without this, every apply would reset it to desired_count.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.api]
}
