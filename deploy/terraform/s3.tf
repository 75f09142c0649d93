# The media bucket, private, read by CloudFront alone through Origin Access
# Control; in same-origin, a second private bucket holds the SPA.

resource "aws_s3_bucket" "media" {
  bucket_prefix = "${var.name}-media-"
}

resource "aws_s3_bucket_public_access_block" "media" {
  bucket                  = aws_s3_bucket.media.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudFrontOriginAccessControl"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.media.arn}/*"
      Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.media]
}

# Cross-subdomain: the SPA on app_origins reads media with fetch or an HLS
# player's XHR, with credentials. S3 answers CORS from this rule (preflights
# included, since CORS-S3Origin forwards Origin and the Access-Control-Request-*
# headers); the distribution's response headers policy adds the same headers
# to every response, cached or not.
resource "aws_s3_bucket_cors_configuration" "media" {
  count  = local.same_origin ? 0 : 1
  bucket = aws_s3_bucket.media.id

  cors_rule {
    allowed_methods = ["GET", "HEAD"]
    allowed_origins = var.app_origins
    allowed_headers = ["Range"]
    expose_headers  = ["Content-Length", "Content-Range", "ETag"]
    max_age_seconds = 600
  }
}

resource "aws_s3_bucket" "app" {
  count         = local.same_origin ? 1 : 0
  bucket_prefix = "${var.name}-app-"
}

resource "aws_s3_bucket_public_access_block" "app" {
  count                   = local.same_origin ? 1 : 0
  bucket                  = aws_s3_bucket.app[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "app" {
  count  = local.same_origin ? 1 : 0
  bucket = aws_s3_bucket.app[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "app" {
  count  = local.same_origin ? 1 : 0
  bucket = aws_s3_bucket.app[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudFrontOriginAccessControl"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.app[0].arn}/*"
      Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.app]
}
