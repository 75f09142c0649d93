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
  description = "Number of tasks; two or more so a deployment or an AZ loss keeps the API up."
  type        = number
  default     = 2
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
