output "primary_endpoint" {
  description = "Primary endpoint address."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "redis_url" {
  description = "REDIS_URL of the roles (TLS)."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
}
