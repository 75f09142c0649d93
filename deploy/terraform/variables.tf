variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "cfcookies"
}

variable "topology" {
  description = <<-EOT
    "same-origin" (recommended): one CloudFront distribution on cloudfront_domain serves the
    SPA (default behaviour, from the app bucket), the API under /auth/* (the ALB) and the media,
    so the browser never makes a cross-origin request and the cookies can be host-only.
    "cross-subdomain": the distribution on cloudfront_domain (media.example.com) serves only
    the media; the API is the ALB on api_domain (api.example.com), the SPA lives on one of
    app_origins, and the cookies are scoped to cookie_domain (example.com).
  EOT
  type        = string
  default     = "same-origin"

  validation {
    condition     = contains(["same-origin", "cross-subdomain"], var.topology)
    error_message = "topology must be \"same-origin\" or \"cross-subdomain\"."
  }
}

variable "cloudfront_domain" {
  description = "The distribution's custom domain, CLOUDFRONT_DOMAIN: www.example.com (same-origin) or media.example.com (cross-subdomain). Point its DNS at the distribution_domain_name output."
  type        = string
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate for cloudfront_domain, in us-east-1 (CloudFront only takes certificates from there)."
  type        = string
}

variable "api_domain" {
  description = "DNS name of the load balancer, covered by alb_certificate_arn: origin.example.com (same-origin: only CloudFront calls it) or api.example.com (cross-subdomain: the SPA calls it). Point its DNS at the alb_dns_name output."
  type        = string
}

variable "alb_certificate_arn" {
  description = "ACM certificate for api_domain, in the region of the load balancer."
  type        = string
}

variable "cookie_domain" {
  description = "COOKIE_DOMAIN for cross-subdomain: the parent domain shared by the SPA, the API and cloudfront_domain, e.g. example.com. Unused (host-only cookies) in same-origin."
  type        = string
  default     = ""
}

variable "app_origins" {
  description = "Cross-subdomain only: the SPA's exact origins, e.g. [\"https://app.example.com\"]. They become CORS_ALLOWED_ORIGINS, the media bucket's CORS rule and the distribution's CORS response headers, always with credentials and never \"*\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.app_origins : can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", o))])
    error_message = "app_origins must be exact https origins such as https://app.example.com: no \"*\", path or trailing slash (credentials are never allowed for a wildcard)."
  }
}

variable "signing_key" {
  description = <<-EOT
    Where the private key that signs the cookies lives.
    "kms" (default, the secure choice): an asymmetric AWS KMS key made by this module. The private
    key never leaves KMS: the tasks may only ask KMS to sign a digest (kms:Sign) and to read the
    public key (kms:GetPublicKey), so it cannot be stolen from a task, its memory, a leaked task
    role session or the Terraform state; a stolen session signs only while it lasts, and
    CloudTrail records every signature. CloudFront's public key is made from it: nothing to set
    out of band. Signatures are SHA-256 only (ECDSA_SHA_256 or RSASSA_PKCS1_V1_5_SHA_256), and
    each is a KMS request, within KMS's request quota and at its price.
    "secret": a PEM key you make and put in a Secrets Manager secret out of band (its public key
    in public_keys); the tasks read the private key itself into memory. For SHA-1 signatures, or
    when other tools must sign with the same key.
  EOT
  type        = string
  default     = "kms"

  validation {
    condition     = contains(["kms", "secret"], var.signing_key)
    error_message = "signing_key must be \"kms\" (a KMS key that never leaves KMS) or \"secret\" (a PEM key in Secrets Manager)."
  }
}

variable "kms_key_spec" {
  description = <<-EOT
    signing_key = "kms": the KMS key spec, one CloudFront key groups accept. "ECC_NIST_P256"
    (default) signs with ECDSA_SHA_256: a 96-character signature in the cookie, against 344 for
    "RSA_2048", which signs with RSASSA_PKCS1_V1_5_SHA_256. Changing it replaces the key: cookies
    signed with the old key are refused from then on, until the SPA gets new ones.
  EOT
  type        = string
  default     = "ECC_NIST_P256"

  validation {
    condition     = contains(["ECC_NIST_P256", "RSA_2048"], var.kms_key_spec)
    error_message = "kms_key_spec must be \"ECC_NIST_P256\" or \"RSA_2048\": the KMS key specs whose public keys CloudFront accepts."
  }
}

variable "public_keys" {
  description = <<-EOT
    CloudFront public keys of the trusted key group besides the KMS key's, name => PEM (from
    `server keygen` or openssl). signing_key = "secret": the public key of the secret's private
    key, at least one. Keep old and new side by side during a rotation, or while cookies signed
    before a switch to "kms" expire; a key group holds at most 5, the KMS key included.
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.public_keys) <= 5
    error_message = "public_keys must hold at most 5 keys: a CloudFront key group holds at most 5."
  }
}

variable "key_refresh_interval" {
  description = "signing_key = \"secret\": KEY_REFRESH_INTERVAL, how often the tasks read the secret again, so a rotated key is used without a deployment."
  type        = string
  default     = "5m"
}

variable "image" {
  description = "The container image, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/cfcookies:v1.2.3 (pin a tag or digest)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the load balancer and the tasks."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the internet-facing load balancer (two or more AZs)."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks. They need a route to KMS (or Secrets Manager), ECR, CloudWatch Logs and the OIDC issuer (NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "oidc_issuer" {
  description = "OIDC_ISSUER: the token issuer URL, exactly as in the tokens' iss."
  type        = string
}

variable "oidc_audience" {
  description = "OIDC_AUDIENCE: the audience (client id) tokens must carry."
  type        = string
}

variable "auth_cookie" {
  description = "AUTH_COOKIE: name of a cookie carrying the JWT besides Authorization: Bearer; empty for none."
  type        = string
  default     = ""
}

variable "media_path" {
  description = "MEDIA_PATH: the grant's path template, e.g. /media/{sub}/*. It must lie under media_path_pattern."
  type        = string
  default     = "/media/{sub}/*"
}

variable "media_path_pattern" {
  description = "The distribution's path pattern of the media behaviour, which requires signed cookies."
  type        = string
  default     = "/media/*"
}

variable "cookie_ttl" {
  description = "COOKIE_TTL: the policy and cookie lifetime."
  type        = string
  default     = "10m"
}

variable "desired_count" {
  description = "Number of tasks at creation, within autoscaling_min_capacity and autoscaling_max_capacity; from then on the autoscaler sets it (Terraform ignores changes to it)."
  type        = number
  default     = 2
}

variable "autoscaling_min_capacity" {
  description = "Fewest tasks the autoscaler keeps: two or more, so a deployment or an AZ loss keeps the API up."
  type        = number
  default     = 2

  validation {
    condition     = var.autoscaling_min_capacity >= 1 && floor(var.autoscaling_min_capacity) == var.autoscaling_min_capacity
    error_message = "autoscaling_min_capacity must be a whole number of tasks, 1 or more (2 or more to survive an AZ loss)."
  }
}

variable "autoscaling_max_capacity" {
  description = <<-EOT
    Most tasks the autoscaler starts. Each task multiplies the per-task rate limits and splits the
    signature cache (see "Running N tasks" in docs/operations.md); with signing_key = "kms", more
    tasks add no signing capacity beyond the account's KMS request quota.
  EOT
  type        = number
  default     = 8

  validation {
    condition     = var.autoscaling_max_capacity >= var.autoscaling_min_capacity && floor(var.autoscaling_max_capacity) == var.autoscaling_max_capacity
    error_message = "autoscaling_max_capacity must be a whole number of tasks, at least autoscaling_min_capacity."
  }
}

variable "autoscaling_metric" {
  description = <<-EOT
    What the target-tracking policy keeps at its target. "cpu" (default): the service's average CPU
    (ECSServiceAverageCPUUtilization) at autoscaling_cpu_target percent. "requests": the ALB's
    requests per task per minute (ALBRequestCountPerTarget) at autoscaling_requests_target.
  EOT
  type        = string
  default     = "cpu"

  validation {
    condition     = contains(["cpu", "requests"], var.autoscaling_metric)
    error_message = "autoscaling_metric must be \"cpu\" or \"requests\"."
  }
}

variable "autoscaling_cpu_target" {
  description = "autoscaling_metric = \"cpu\": the average CPU utilisation of the service, in percent, that the autoscaler keeps."
  type        = number
  default     = 60

  validation {
    condition     = var.autoscaling_cpu_target >= 10 && var.autoscaling_cpu_target <= 90
    error_message = "autoscaling_cpu_target must be a percentage from 10 to 90."
  }
}

variable "autoscaling_requests_target" {
  description = "autoscaling_metric = \"requests\": ALB requests per task per minute that the autoscaler keeps; measure a task's capacity with your key and task_cpu first."
  type        = number
  default     = 6000

  validation {
    condition     = var.autoscaling_requests_target >= 1
    error_message = "autoscaling_requests_target must be at least 1 request per task per minute."
  }
}

variable "waf_auth_rate_limit" {
  description = <<-EOT
    The web ACL's limit on requests to /auth/* from one client IP address over
    waf_auth_rate_window seconds, counted across every task: the edge's counterpart of the
    per-task RATE_LIMIT_PER_IP (300/1m by default), which N tasks multiply by N. Requests
    beyond it are answered 429 by AWS WAF. AWS WAF accepts 10 to 2,000,000,000.
  EOT
  type        = number
  default     = 300

  validation {
    condition     = var.waf_auth_rate_limit >= 10 && var.waf_auth_rate_limit <= 2000000000 && floor(var.waf_auth_rate_limit) == var.waf_auth_rate_limit
    error_message = "waf_auth_rate_limit must be a whole number from 10 (the AWS WAF minimum) to 2000000000."
  }
}

variable "waf_auth_rate_window" {
  description = "The evaluation window of waf_auth_rate_limit, in seconds: 60, 120, 300 or 600 (what AWS WAF accepts)."
  type        = number
  default     = 60

  validation {
    condition     = contains([60, 120, 300, 600], var.waf_auth_rate_window)
    error_message = "waf_auth_rate_window must be 60, 120, 300 or 600 seconds."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic, in the region of the deployment, that the CloudWatch alarms notify (alarm and OK); empty for alarms without actions."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be empty or the ARN of an SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}

variable "edge_alarm_topic_arn" {
  description = "Same-origin: SNS topic in us-east-1 that the alarm on the CloudFront web ACL notifies (its metrics exist only there); empty for no actions."
  type        = string
  default     = ""

  validation {
    condition     = var.edge_alarm_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:us-east-1:[0-9]{12}:[A-Za-z0-9_-]+$", var.edge_alarm_topic_arn))
    error_message = "edge_alarm_topic_arn must be empty or the ARN of an SNS topic in us-east-1 (arn:aws:sns:us-east-1:ACCOUNT:NAME): a CloudWatch alarm notifies topics of its own region only."
  }
}

variable "alarm_target_5xx_per_minute" {
  description = "The target 5xx alarm fires when the tasks answer more than this many 5xx a minute in 3 of 5 minutes."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_target_5xx_per_minute >= 0
    error_message = "alarm_target_5xx_per_minute must not be negative."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 512
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the access and application log."
  type        = number
  default     = 30
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
