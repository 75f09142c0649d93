# The service scales out by adding tasks: it keeps no state, but each task
# counts its own rate limits and holds its own signature cache, so N tasks
# allow a client up to N times RATE_LIMIT_PER_IP and RATE_LIMIT_PER_IDENTITY
# (waf.tf restores a limit across tasks at the edge) and sign up to N times
# for one policy. See "Running N tasks" in docs/operations.md.

resource "aws_appautoscaling_target" "ecs" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  min_capacity       = var.autoscaling_min_capacity
  max_capacity       = var.autoscaling_max_capacity

  lifecycle {
    precondition {
      condition     = var.desired_count >= var.autoscaling_min_capacity && var.desired_count <= var.autoscaling_max_capacity
      error_message = "desired_count must lie between autoscaling_min_capacity and autoscaling_max_capacity, or the autoscaler changes it as soon as the service exists."
    }
  }
}

# Target tracking on CPU by default rather than on requests per task: what
# an issuance costs a task varies 26-fold with the key (an ECDSA P-256
# signature in memory about 0.04 ms, RSA-2048 about 1 ms, a KMS signature
# mostly waiting on the network) and with the cache (a hit signs nothing),
# so a requests-per-task target would have to be measured again for every
# key, TTL and task size, while CPU is what runs out whichever it is. It also
# keeps the fleet from growing when requests are cheap: a flood of 401s or
# 429s, or KMS signing, where a task waits and the account's KMS quota, not
# the number of tasks, bounds the signatures, and where more tasks only
# split the signature cache further. "requests" (ALBRequestCountPerTarget)
# is there for a fleet whose capacity per task was measured.
resource "aws_appautoscaling_policy" "ecs" {
  name               = "${var.name}-${var.autoscaling_metric}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.ecs.service_namespace
  resource_id        = aws_appautoscaling_target.ecs.resource_id
  scalable_dimension = aws_appautoscaling_target.ecs.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling_metric == "cpu" ? var.autoscaling_cpu_target : var.autoscaling_requests_target
    # Out fast (a burst of logins at the start of an event), in slowly.
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    predefined_metric_specification {
      predefined_metric_type = var.autoscaling_metric == "cpu" ? "ECSServiceAverageCPUUtilization" : "ALBRequestCountPerTarget"
      # app/NAME/ID/targetgroup/NAME/ID: the target group behind this
      # load balancer.
      resource_label = var.autoscaling_metric == "cpu" ? null : "${aws_lb.this.arn_suffix}/${aws_lb_target_group.api.arn_suffix}"
    }
  }
}
