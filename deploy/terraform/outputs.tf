output "distribution_domain_name" {
  description = "Point cloudfront_domain's DNS (CNAME or alias) here."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_id" {
  description = "For invalidations."
  value       = aws_cloudfront_distribution.this.id
}

output "media_base_url" {
  description = "Media URLs start with this and media_path_pattern."
  value       = "https://${var.cloudfront_domain}"
}

output "cookies_url" {
  description = "What the SPA calls, with credentials: \"include\"."
  value       = "${local.api_base_url}/auth/media-cookies"
}

output "alb_dns_name" {
  description = "Point api_domain's DNS here."
  value       = aws_lb.this.dns_name
}

output "public_key_ids" {
  description = "CloudFront key pair IDs of public_keys, by name: with signing_key = \"secret\", the keyPairId to put in the secret with the matching private key."
  value       = { for name, k in aws_cloudfront_public_key.this : name => k.id }
}

output "kms_key_arn" {
  description = "signing_key = \"kms\": the signing key, CLOUDFRONT_KMS_KEY_ID of the tasks."
  value       = local.kms ? aws_kms_key.signing[0].arn : null
}

output "kms_key_alias" {
  description = "signing_key = \"kms\": the signing key's alias, for people and the AWS CLI."
  value       = local.kms ? aws_kms_alias.signing[0].name : null
}

output "kms_key_pair_id" {
  description = "signing_key = \"kms\": the CloudFront key pair ID of the KMS key's public key, CLOUDFRONT_KEY_PAIR_ID of the tasks and CloudFront-Key-Pair-Id of the cookies."
  value       = local.kms ? aws_cloudfront_public_key.kms[0].id : null
}

output "key_group_id" {
  description = "The trusted key group of the media behaviour."
  value       = aws_cloudfront_key_group.this.id
}

output "private_key_secret_arn" {
  description = "signing_key = \"secret\": put the private key here, out of band (aws secretsmanager put-secret-value)."
  value       = local.kms ? null : aws_secretsmanager_secret.key[0].arn
}

output "media_bucket" {
  description = "Upload media here, under media_path_pattern."
  value       = aws_s3_bucket.media.id
}

output "app_bucket" {
  description = "Same-origin: upload the SPA here (index.html at the root)."
  value       = local.same_origin ? aws_s3_bucket.app[0].id : null
}

output "log_group" {
  description = "The service's JSON log."
  value       = aws_cloudwatch_log_group.this.name
}

output "web_acl_arn" {
  description = "The AWS WAF web ACL that limits /auth/* per client address across tasks: on the distribution (same-origin, in us-east-1) or on the load balancer (cross-subdomain)."
  value       = local.same_origin ? aws_wafv2_web_acl.cloudfront[0].arn : aws_wafv2_web_acl.alb[0].arn
}

output "autoscaling_resource_id" {
  description = "The scalable target of the ECS service (service/CLUSTER/SERVICE), for aws application-autoscaling describe-scaling-activities."
  value       = aws_appautoscaling_target.ecs.resource_id
}

output "alarm_names" {
  description = "The CloudWatch alarms; the WAF one is in us-east-1 in same-origin."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.target_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_tasks.alarm_name,
      aws_cloudwatch_metric_alarm.no_healthy_tasks.alarm_name,
    ],
    aws_cloudwatch_metric_alarm.waf_auth_blocked_cloudfront[*].alarm_name,
    aws_cloudwatch_metric_alarm.waf_auth_blocked_alb[*].alarm_name,
  )
}
