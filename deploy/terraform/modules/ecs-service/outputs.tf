output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.this.name
}

output "task_definition_arn" {
  description = "Current task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "log_group" {
  description = "CloudWatch log group of the role."
  value       = aws_cloudwatch_log_group.this.name
}

output "task_role_arn" {
  description = "IAM role of the role's process."
  value       = aws_iam_role.task.arn
}
