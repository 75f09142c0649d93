# The public keys CloudFront verifies cookies with, and the private key the
# service signs with: an asymmetric KMS key (signing_key = "kms", the
# default), which never leaves KMS, or a PEM key in a Secrets Manager secret
# (signing_key = "secret"). Neither private key passes through Terraform or
# its state: KMS makes its own, and the secret's value is set out of band
# (see docs/deploying.md).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# signing_key = "kms": the tasks may ask KMS to sign with this key
# (kms:Sign, the task role's policy in ecs.tf) and read its public key, never
# export it. Asymmetric keys cannot rotate automatically; changing
# kms_key_spec replaces the key.
resource "aws_kms_key" "signing" {
  count = local.kms ? 1 : 0

  description              = "cfcookies: signs the CloudFront cookies of ${var.cloudfront_domain}"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = var.kms_key_spec
  deletion_window_in_days  = 30
  policy                   = data.aws_iam_policy_document.signing_key[0].json
}

# The standard key policy: the account administers the key through IAM, as
# any other resource, so the task role's IAM policy is what lets it sign.
# Without it no one could manage the key (KMS refuses such a policy anyway).
data "aws_iam_policy_document" "signing_key" {
  count = local.kms ? 1 : 0

  statement {
    sid       = "EnableIAMPolicies"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_alias" "signing" {
  count = local.kms ? 1 : 0

  name          = "alias/${var.name}-cloudfront-signing"
  target_key_id = aws_kms_key.signing[0].key_id
}

data "aws_kms_public_key" "signing" {
  count = local.kms ? 1 : 0

  key_id = aws_kms_key.signing[0].arn
}

# The KMS key's public key (SubjectPublicKeyInfo PEM, newline-terminated as
# CloudFront wants it). A new key makes a new public key before the old one
# leaves the key group, which refuses to lose a key still in use.
resource "aws_cloudfront_public_key" "kms" {
  count = local.kms ? 1 : 0

  name_prefix = "${var.name}-kms-"
  comment     = "cfcookies signing key ${var.kms_key_spec} in KMS"
  encoded_key = data.aws_kms_public_key.signing[0].public_key_pem

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudfront_public_key" "this" {
  for_each = var.public_keys

  name        = "${var.name}-${each.key}"
  comment     = "cfcookies signing key ${each.key}"
  encoded_key = each.value
}

resource "aws_cloudfront_key_group" "this" {
  name    = var.name
  comment = "Keys whose signed cookies open ${var.cloudfront_domain}${var.media_path_pattern}"
  items   = concat([for k in aws_cloudfront_public_key.kms : k.id], [for k in aws_cloudfront_public_key.this : k.id])

  lifecycle {
    precondition {
      condition     = local.kms || length(var.public_keys) > 0
      error_message = "signing_key = \"secret\" needs public_keys: the public key of the private key you put in the secret."
    }
    precondition {
      condition     = length(var.public_keys) + (local.kms ? 1 : 0) <= 5
      error_message = "A CloudFront key group holds at most 5 keys: with signing_key = \"kms\" its key takes one, leaving 4 for public_keys."
    }
  }
}

# signing_key = "secret": the private key, read by the tasks into memory.
resource "aws_secretsmanager_secret" "key" {
  count = local.kms ? 0 : 1

  name                    = "${var.name}/cloudfront-private-key"
  description             = "CloudFront private key of cfcookies: JSON {\"keyPairId\": ..., \"privateKey\": PEM} or PEM. Set its value out of band."
  recovery_window_in_days = 7
}
