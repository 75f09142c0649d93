# CloudWatch alarms on what the load balancer sees of the tasks, and on the
# edge's rate limit. They notify alarm_topic_arn (edge_alarm_topic_arn for
# the CloudFront web ACL, whose metrics live in us-east-1) when set.
#
# treat_missing_data, chosen per metric: the load balancer publishes a 5xx
# count only for a minute that had one, and WAF a blocked count only for a
# minute that blocked something, so no data there means none happened
# (notBreaching); it publishes healthy and unhealthy host counts every
# minute while the target group is in use, so no healthy-host data means
# nothing reports the service as up (breaching).

locals {
  alarm_actions      = compact([var.alarm_topic_arn])
  edge_alarm_actions = compact([var.edge_alarm_topic_arn])

  # The target group, behind this load balancer.
  target_group_dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.api.arn_suffix
  }
}

# The tasks answer 5xx: signing failing (KMS or the key unavailable: 503),
# a crash, a bug. Their own 4xx (bad tokens, 429) are not counted.
resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${var.name}-target-5xx"
  alarm_description   = "cfcookies tasks answer 5xx (key-unavailable 503s included): see the service log and cfcookies_issuances_total{result=\"error\"}."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = local.target_group_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_target_5xx_per_minute
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# A task failing /readyz for five minutes in a row: it cannot sign (no key
# loaded, KMS or Secrets Manager unreachable) or hangs. A task that starts
# and becomes ready within the deployment is not counted long enough.
resource "aws_cloudwatch_metric_alarm" "unhealthy_tasks" {
  alarm_name          = "${var.name}-unhealthy-tasks"
  alarm_description   = "A cfcookies task has failed the load balancer's /readyz check for 5 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.target_group_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# No task can sign: every issuance fails (the load balancer answers 503).
resource "aws_cloudwatch_metric_alarm" "no_healthy_tasks" {
  alarm_name          = "${var.name}-no-healthy-tasks"
  alarm_description   = "No cfcookies task passes /readyz: the API is down."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.target_group_dimensions
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# The edge's rate limit blocked requests for 5 minutes running: an attack,
# a client looping, or many users behind one address (a NAT) above
# waf_auth_rate_limit. Informational: the block is the protection working.
resource "aws_cloudwatch_metric_alarm" "waf_auth_blocked_cloudfront" {
  count    = local.same_origin ? 1 : 0
  provider = aws.us_east_1

  alarm_name        = "${var.name}-waf-auth-blocked"
  alarm_description = "AWS WAF answers 429 to /auth/* for some client address for 5 minutes (waf_auth_rate_limit)."
  namespace         = "AWS/WAFV2"
  metric_name       = "BlockedRequests"
  # CloudFront web ACLs have no Region dimension.
  dimensions = {
    WebACL = aws_wafv2_web_acl.cloudfront[0].name
    Rule   = local.waf_rule_name
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.edge_alarm_actions
  ok_actions          = local.edge_alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "waf_auth_blocked_alb" {
  count = local.same_origin ? 0 : 1

  alarm_name        = "${var.name}-waf-auth-blocked"
  alarm_description = "AWS WAF answers 429 to /auth/* for some client address for 5 minutes (waf_auth_rate_limit)."
  namespace         = "AWS/WAFV2"
  metric_name       = "BlockedRequests"
  dimensions = {
    Region = data.aws_region.current.id
    WebACL = aws_wafv2_web_acl.alb[0].name
    Rule   = local.waf_rule_name
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
