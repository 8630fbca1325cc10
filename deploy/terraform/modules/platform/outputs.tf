output "load_balancer_dns_name" {
  description = "DNS name of the public load balancer."
  value       = module.alb.dns_name
}

output "websocket_url" {
  description = "WebSocket endpoint of the clients."
  value       = "${var.certificate_arn == null ? "ws" : "wss"}://${module.alb.dns_name}/v1/ws"
}

output "api_url" {
  description = "REST base URL."
  value       = "${var.certificate_arn == null ? "http" : "https"}://${module.alb.dns_name}/api/v1"
}

output "kafka_bootstrap_brokers" {
  description = "KAFKA_BROKERS (SASL/IAM, TLS)."
  value       = module.msk.bootstrap_brokers
}

output "redis_url" {
  description = "REDIS_URL (TLS)."
  value       = module.redis.redis_url
}

output "dynamodb_tables" {
  description = "Table key => table name."
  value       = module.dynamodb.table_names
}

output "ecs_cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "log_groups" {
  description = "Role => CloudWatch log group."
  value = {
    gateway  = module.gateway.log_group
    ingest   = module.ingest.log_group
    fanout   = module.fanout.log_group
    chatmgmt = module.chatmgmt.log_group
  }
}

output "secret_arns" {
  description = "Secret name => ARN."
  value       = module.secrets.arns
}

output "vpc_id" {
  description = "The VPC."
  value       = module.network.vpc_id
}

output "operations_security_group_id" {
  description = "Security group that reaches every role's INTERNAL_PORT (/metrics, /admin/ring, /inspector, detailed /health): attach it to Prometheus and operator tasks. The load balancer never forwards there."
  value       = module.network.security_group_ids["operations"]
}
