# cfcookies on AWS: a CloudFront distribution whose media behaviour only
# serves requests carrying valid signed cookies, the key group that verifies
# them, the signing key in KMS (or Secrets Manager), and the service on ECS Fargate
# behind an ALB. See the repository's docs/deploying.md.

data "aws_region" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  same_origin = var.topology == "same-origin"
  kms         = var.signing_key == "kms"

  # Origin ids of the distribution.
  media_origin_id = "media"
  app_origin_id   = "app"
  api_origin_id   = "api"

  # The API's public address: under the distribution in same-origin, the ALB
  # in cross-subdomain.
  api_base_url = local.same_origin ? "https://${var.cloudfront_domain}" : "https://${var.api_domain}"

  # The service's environment; every name is one cfcookies reads
  # (deploy/terraform_test.go checks it against internal/config).
  container_environment = merge(
    {
      LISTEN_ADDR       = ":8080"
      METRICS_ADDR      = ":9090"
      CLOUDFRONT_DOMAIN = var.cloudfront_domain
      MEDIA_PATH        = var.media_path
      COOKIE_TTL        = var.cookie_ttl
      AUTH_MODE         = "oidc"
      OIDC_ISSUER       = var.oidc_issuer
      OIDC_AUDIENCE     = var.oidc_audience
      # The ALB's nodes are in the VPC: X-Forwarded-For is believed from them only.
      TRUSTED_PROXIES = data.aws_vpc.this.cidr_block
      LOG_FORMAT      = "json"
    },
    # The key's ARN rather than its alias: the tasks sign with exactly the
    # key whose public key is CLOUDFRONT_KEY_PAIR_ID, whatever the alias
    # points at later.
    local.kms ? {
      CLOUDFRONT_KMS_KEY_ID  = aws_kms_key.signing[0].arn
      CLOUDFRONT_KEY_PAIR_ID = aws_cloudfront_public_key.kms[0].id
    } : {},
    # The JSON secret names its key pair ID, so one put-secret-value
    # rotates both: no CLOUDFRONT_KEY_PAIR_ID here to go stale.
    local.kms ? {} : {
      CLOUDFRONT_PRIVATE_KEY_SECRET = aws_secretsmanager_secret.key[0].arn
      KEY_REFRESH_INTERVAL          = var.key_refresh_interval
    },
    local.same_origin ? {} : {
      COOKIE_DOMAIN        = var.cookie_domain
      CORS_ALLOWED_ORIGINS = join(",", var.app_origins)
    },
    var.auth_cookie == "" ? {} : {
      AUTH_COOKIE = var.auth_cookie
    },
  )

  container_definition = {
    name                   = "cfcookies"
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    portMappings = [
      { name = "api", containerPort = 8080, protocol = "tcp" },
      { name = "metrics", containerPort = 9090, protocol = "tcp" },
    ]
    environment = [for k in sort(keys(local.container_environment)) : { name = k, value = local.container_environment[k] }]
    # The image has no shell: the binary probes its own /healthz.
    healthCheck = {
      command     = ["CMD", "/cfcookies", "healthcheck"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }
    # SIGTERM starts a graceful shutdown of up to 20 s; SIGKILL follows
    # stopTimeout seconds later, so it must be longer.
    stopTimeout = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.id
        awslogs-stream-prefix = "cfcookies"
      }
    }
  }
}
