# Redis 7 for connection routing, presence and node liveness. Authoritative for nothing (spec §2: wipeable),
# so no persistence: no snapshots, no AOF; keys carry TTLs and memory pressure evicts the nearest expiry
# first (volatile-ttl). Encrypted in transit, so REDIS_URL is `rediss://`.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-redis7"
  family      = "redis7"
  description = "messaging platform: ephemeral routing state"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-ttl"
  }

  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "messaging platform routing and liveness"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = var.security_group_ids

  # One primary plus replicas_per_shard replicas; failover only with a replica.
  num_cache_clusters         = 1 + var.replicas
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0

  # No persistence (spec §2: Redis is ephemeral).
  snapshot_retention_limit = 0

  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  apply_immediately          = var.apply_immediately

  tags = var.tags
}
