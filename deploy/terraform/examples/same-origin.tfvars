# terraform apply -var-file=examples/same-origin.tfvars
# The SPA, /auth/* and /media/* on www.example.com: no CORS, host-only cookies.
topology                   = "same-origin"
cloudfront_domain          = "www.example.com"
cloudfront_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"
api_domain                 = "origin.example.com"
alb_certificate_arn        = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000002"

# The signing key is an ECDSA P-256 KMS key that never leaves KMS (the
# defaults). To keep a PEM key in Secrets Manager instead:
# signing_key = "secret"
# public_keys = {
#   "2026-11" = <<-EOT
#     -----BEGIN PUBLIC KEY-----
#     (the public PEM printed by server keygen or openssl)
#     -----END PUBLIC KEY-----
#   EOT
# }

image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cfcookies:v1.0.0"
vpc_id             = "vpc-0123456789abcdef0"
public_subnet_ids  = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
private_subnet_ids = ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]

oidc_issuer   = "https://login.example.com/"
oidc_audience = "cfcookies-spa"
