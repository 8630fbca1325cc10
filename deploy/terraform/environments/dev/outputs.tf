output "websocket_url" {
  description = "WebSocket endpoint of the clients."
  value       = module.platform.websocket_url
}

output "api_url" {
  description = "REST base URL."
  value       = module.platform.api_url
}

output "load_balancer_dns_name" {
  description = "Point the public DNS name at this (alias)."
  value       = module.platform.load_balancer_dns_name
}

output "kafka_bootstrap_brokers" {
  description = "MSK Serverless bootstrap brokers (SASL/IAM)."
  value       = module.platform.kafka_bootstrap_brokers
}

output "redis_url" {
  description = "ElastiCache endpoint."
  value       = module.platform.redis_url
}

output "dynamodb_tables" {
  description = "Table names."
  value       = module.platform.dynamodb_tables
}

output "ecs_cluster_name" {
  description = "ECS cluster."
  value       = module.platform.ecs_cluster_name
}

output "log_groups" {
  description = "Role => log group."
  value       = module.platform.log_groups
}

output "operations_security_group_id" {
  description = "Attach to monitoring and operator tasks to reach the roles' internal port (metrics, operator API, inspector)."
  value       = module.platform.operations_security_group_id
}
