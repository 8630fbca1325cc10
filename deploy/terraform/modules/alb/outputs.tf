output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Hosted zone of the load balancer (for alias records)."
  value       = aws_lb.this.zone_id
}

output "target_group_arns" {
  description = "gateway / chatmgmt => target group ARN."
  value       = { for name, group in aws_lb_target_group.this : name => group.arn }
}

output "arn_suffix" {
  description = "For CloudWatch metrics (ALBRequestCountPerTarget)."
  value       = aws_lb.this.arn_suffix
}
