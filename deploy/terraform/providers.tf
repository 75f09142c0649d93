# Applied directly from this directory: the region comes from AWS_REGION or the
# profile, as usual. CloudFront resources are global; its viewer certificate
# must be in us-east-1 whatever the region.
provider "aws" {
  default_tags {
    tags = var.tags
  }
}

# CloudFront-scoped resources that are not global: a web ACL with scope
# CLOUDFRONT, and the CloudWatch metrics and alarms of it, exist only in
# us-east-1 (N. Virginia), whatever the region of the rest.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = var.tags
  }
}
