output "arns" {
  description = "Secret name (jwt_private_key, otp_pepper, admin_token, internal_grpc_token) => ARN, for ECS `secrets` and IAM."
  value       = { for name, secret in aws_secretsmanager_secret.this : name => secret.arn }
}
