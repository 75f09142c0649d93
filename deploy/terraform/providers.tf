# Applied directly from this directory: the region comes from AWS_REGION or the
# profile, as usual. CloudFront resources are global; its viewer certificate
# must be in us-east-1 whatever the region.
provider "aws" {
  default_tags {
    tags = var.tags
  }
}
