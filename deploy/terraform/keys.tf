# The public keys CloudFront verifies cookies with, and the private key the
# service signs with. The private key never passes through Terraform: put it
# in the secret out of band (see the README), so it is not in the state.

resource "aws_cloudfront_public_key" "this" {
  for_each = var.public_keys

  name        = "${var.name}-${each.key}"
  comment     = "cfcookies signing key ${each.key}"
  encoded_key = each.value
}

resource "aws_cloudfront_key_group" "this" {
  name    = var.name
  comment = "Keys whose signed cookies open ${var.cloudfront_domain}${var.media_path_pattern}"
  items   = [for k in aws_cloudfront_public_key.this : k.id]
}

resource "aws_secretsmanager_secret" "key" {
  name                    = "${var.name}/cloudfront-private-key"
  description             = "CloudFront private key of cfcookies: JSON {\"keyPairId\": ..., \"privateKey\": PEM} or PEM. Set its value out of band."
  recovery_window_in_days = 7
}
