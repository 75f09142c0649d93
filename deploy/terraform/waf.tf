# A limit across tasks. The service's own limits are per task: behind N
# tasks a client gets up to N times RATE_LIMIT_PER_IP. An AWS WAF
# rate-based rule counts the requests to /auth/* of each client address
# over waf_auth_rate_window seconds wherever they land, and answers 429 past
# waf_auth_rate_limit. It sits where the client's own address is the
# request's source: CloudFront in same-origin (a web ACL of scope
# CLOUDFRONT, which must be made in us-east-1), the load balancer in
# cross-subdomain, where the SPA calls the API directly and the distribution
# serves only media (a rule on /auth/* there would never match).
#
# Both web ACLs hold the same rule, written twice: a resource takes one
# provider, and the CLOUDFRONT one needs us-east-1. deploy/scaling_test.go
# checks each (TestTerraformWAF).

locals {
  waf_rule_name = "auth-rate-per-ip"

  # What the SPA gets past the limit: the problem the service itself sends
  # for its own 429 (cfcookies.js reads problem+json or plain JSON alike).
  # WAF cannot send Retry-After: it prefixes custom header names.
  waf_rate_limited_body = jsonencode({
    type   = "urn:cfcookies:problem:rate-limited"
    title  = "Too Many Requests"
    status = 429
    detail = "Too many requests to /auth/ from this address; try again in a minute."
  })
}

resource "aws_wafv2_web_acl" "cloudfront" {
  count    = local.same_origin ? 1 : 0
  provider = aws.us_east_1

  name        = "${var.name}-cloudfront"
  description = "cfcookies: rate limit of /auth/* per client address, across tasks"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  custom_response_body {
    key          = "rate_limited"
    content_type = "APPLICATION_JSON"
    content      = local.waf_rate_limited_body
  }

  rule {
    name     = local.waf_rule_name
    priority = 10

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "rate_limited"
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_auth_rate_limit
        evaluation_window_sec = var.waf_auth_rate_window
        aggregate_key_type    = "IP"

        scope_down_statement {
          byte_match_statement {
            search_string         = "/auth/"
            positional_constraint = "STARTS_WITH"
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = local.waf_rule_name
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-cloudfront"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl" "alb" {
  count = local.same_origin ? 0 : 1

  name        = "${var.name}-alb"
  description = "cfcookies: rate limit of /auth/* per client address, across tasks"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  custom_response_body {
    key          = "rate_limited"
    content_type = "APPLICATION_JSON"
    content      = local.waf_rate_limited_body
  }

  rule {
    name     = local.waf_rule_name
    priority = 10

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "rate_limited"
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_auth_rate_limit
        evaluation_window_sec = var.waf_auth_rate_window
        aggregate_key_type    = "IP"

        scope_down_statement {
          byte_match_statement {
            search_string         = "/auth/"
            positional_constraint = "STARTS_WITH"
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = local.waf_rule_name
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-alb"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "alb" {
  count        = local.same_origin ? 0 : 1
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.alb[0].arn
}
