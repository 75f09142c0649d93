# The distribution. Each setting marked "breaks:" prevents a known failure of
# signed cookies; deploy/terraform_test.go checks them.

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

# Every viewer header (Authorization and Cookie included), cookie and query
# string, except Host. An origin request policy of our own cannot list
# Authorization (CloudFront refuses it with a 400; it may only travel in a cache
# policy's key), but this managed "all viewer headers" policy forwards it.
data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

# Origin, Access-Control-Request-Headers and Access-Control-Request-Method to S3.
data "aws_cloudfront_origin_request_policy" "cors_s3" {
  name = "Managed-CORS-S3Origin"
}

resource "aws_cloudfront_origin_access_control" "s3" {
  name                              = "${var.name}-s3"
  description                       = "cfcookies buckets, read by CloudFront only"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Cross-subdomain: CORS headers on every media response, with credentials,
# for the SPA's exact origins. origin_override, so a response cached from a
# request without Origin (an <img>) cannot be served to fetch() without them.
resource "aws_cloudfront_response_headers_policy" "media_cors" {
  count = local.same_origin ? 0 : 1
  name  = "${var.name}-media-cors"

  cors_config {
    access_control_allow_credentials = true
    origin_override                  = true
    access_control_max_age_sec       = 600

    access_control_allow_origins {
      items = var.app_origins
    }
    access_control_allow_methods {
      items = ["GET", "HEAD", "OPTIONS"]
    }
    access_control_allow_headers {
      items = ["Range"]
    }
    access_control_expose_headers {
      items = ["Content-Length", "Content-Range", "ETag"]
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  enabled             = true
  comment             = "cfcookies ${var.topology}: ${var.cloudfront_domain}"
  aliases             = [var.cloudfront_domain]
  price_class         = var.price_class
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  default_root_object = local.same_origin ? "index.html" : null
  # The rate limit of /auth/* across tasks (waf.tf). For WAFv2 this is the
  # web ACL's ARN, not its id. Cross-subdomain: on the load balancer instead.
  web_acl_id = local.same_origin ? aws_wafv2_web_acl.cloudfront[0].arn : null

  origin {
    origin_id                = local.media_origin_id
    domain_name              = aws_s3_bucket.media.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
  }

  dynamic "origin" {
    for_each = local.same_origin ? [1] : []
    content {
      origin_id                = local.app_origin_id
      domain_name              = aws_s3_bucket.app[0].bucket_regional_domain_name
      origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
    }
  }

  dynamic "origin" {
    for_each = local.same_origin ? [1] : []
    content {
      origin_id   = local.api_origin_id
      domain_name = var.api_domain
      custom_origin_config {
        http_port              = 80
        https_port             = 443
        origin_protocol_policy = "https-only"
        origin_ssl_protocols   = ["TLSv1.2"]
      }
      custom_header {
        name  = "X-Origin-Verify"
        value = random_password.origin_verify.result
      }
    }
  }

  # same-origin: the SPA, public. cross-subdomain: the distribution serves
  # media only, so everything on it requires the cookies.
  default_cache_behavior {
    target_origin_id           = local.same_origin ? local.app_origin_id : local.media_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    origin_request_policy_id   = local.same_origin ? null : data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = local.same_origin ? null : aws_cloudfront_response_headers_policy.media_cors[0].id
    trusted_key_groups         = local.same_origin ? [] : [aws_cloudfront_key_group.this.id]
  }

  # The API, same-origin only. breaks: a cached answer would hand one user's
  # cookies to the next (CachingDisabled); without Authorization, Cookie and
  # the query the service sees no identity (AllViewerExceptHostHeader); POST
  # and DELETE must be allowed.
  dynamic "ordered_cache_behavior" {
    for_each = local.same_origin ? [1] : []
    content {
      path_pattern             = "/auth/*"
      target_origin_id         = local.api_origin_id
      viewer_protocol_policy   = "https-only"
      allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods           = ["GET", "HEAD"]
      compress                 = false
      cache_policy_id          = data.aws_cloudfront_cache_policy.caching_disabled.id
      origin_request_policy_id = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    }
  }

  # The media. breaks: without trusted_key_groups anyone reads it; over http
  # the Secure cookies are not sent (redirect-to-https); forwarding the
  # cookies to S3 or keying the cache on them would make every user's
  # signature a cache miss (CachingOptimized does neither).
  ordered_cache_behavior {
    path_pattern               = var.media_path_pattern
    target_origin_id           = local.media_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    origin_request_policy_id   = local.same_origin ? null : data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = local.same_origin ? null : aws_cloudfront_response_headers_policy.media_cors[0].id
    trusted_key_groups         = [aws_cloudfront_key_group.this.id]
  }

  viewer_certificate {
    acm_certificate_arn      = var.cloudfront_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
}
