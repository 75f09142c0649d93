terraform {
  # 1.9: a variable's validation may refer to other variables
  # (autoscaling_max_capacity >= autoscaling_min_capacity).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.40: evaluation_window_sec of a WAF rate-based rule.
      version = ">= 5.40, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }
}
