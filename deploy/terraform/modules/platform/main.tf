# The whole platform on AWS, composed from the other modules: network, DynamoDB tables, MSK Serverless,
# ElastiCache Redis, secrets, the load balancer, and one ECS Fargate service per role from the single image.
# environments/dev and environments/prod call this with their sizes.

locals {
  name = "${var.project}-${var.environment}"
  tags = merge(var.tags, { Project = var.project, Environment = var.environment })

  http_port     = 8080
  internal_port = 9090
  grpc_port     = 7070
}

module "network" {
  source             = "../network"
  name               = local.name
  region             = var.region
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  http_port          = local.http_port
  internal_port      = local.internal_port
  grpc_port          = local.grpc_port
  tags               = local.tags
}

module "dynamodb" {
  source              = "../dynamodb"
  table_prefix        = var.table_prefix
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "msk" {
  source                 = "../msk-serverless"
  name                   = local.name
  subnet_ids             = module.network.private_subnet_ids
  security_group_ids     = [module.network.security_group_ids["msk"]]
  manage_topics          = var.manage_topics
  messages_partitions    = var.messages_partitions
  lifecycle_partitions   = var.lifecycle_partitions
  dead_letter_partitions = var.dead_letter_partitions
  tags                   = local.tags
}

module "redis" {
  source             = "../elasticache"
  name               = local.name
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.security_group_ids["redis"]]
  node_type          = var.redis_node_type
  replicas           = var.redis_replicas
  tags               = local.tags
}

module "secrets" {
  source                  = "../secrets"
  name                    = local.name
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = local.tags
}

module "alb" {
  source              = "../alb"
  name                = local.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  security_group_ids  = [module.network.security_group_ids["alb"]]
  target_port         = local.http_port
  certificate_arn     = var.certificate_arn
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

resource "aws_ecs_cluster" "this" {
  name = local.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = local.tags
}

# Gateways find chat management's JWKS at chatmgmt.<namespace>.
resource "aws_service_discovery_private_dns_namespace" "this" {
  name = "${local.name}.internal"
  vpc  = module.network.vpc_id
  tags = local.tags
}

locals {
  # Options of runtime/config.ts every role gets. DYNAMODB_ENDPOINT stays unset: AWS DynamoDB in AWS_REGION,
  # with the task role's credentials. Production mode: every process refuses to start without its secrets.
  # The internal listener binds to every interface of the task; only the operations group reaches it.
  common_env = {
    HOST          = "auto"
    PORT          = tostring(local.http_port)
    INTERNAL_HOST = "0.0.0.0"
    INTERNAL_PORT = tostring(local.internal_port)
    GRPC_PORT     = tostring(local.grpc_port)
    LOG_LEVEL     = var.log_level
    DEV_MODE      = "false"
    # The ALB lives in the VPC: its X-Forwarded-For names the client, so per-IP limits count clients.
    TRUSTED_PROXIES        = var.vpc_cidr
    AWS_REGION             = var.region
    TABLE_PREFIX           = var.table_prefix
    KAFKA_BROKERS          = module.msk.bootstrap_brokers
    REDIS_URL              = module.redis.redis_url
    MESSAGES_PARTITIONS    = tostring(var.messages_partitions)
    LIFECYCLE_PARTITIONS   = tostring(var.lifecycle_partitions)
    DEAD_LETTER_PARTITIONS = tostring(var.dead_letter_partitions)
  }
  # Secrets every role gets (ECS `secrets`: injected as variables from Secrets Manager).
  role_secrets = {
    ADMIN_TOKEN         = module.secrets.arns["admin_token"]
    INTERNAL_GRPC_TOKEN = module.secrets.arns["internal_grpc_token"]
  }
}

# Connection plane. SHUTDOWN_GRACE_MS = 30 s drain (spec §5), stopTimeout 35 s = the spec's hard kill.
module "gateway" {
  source                        = "../ecs-service"
  name_prefix                   = local.name
  role                          = "gateway"
  cluster_arn                   = aws_ecs_cluster.this.arn
  image                         = var.image
  cpu                           = 512
  memory                        = 1024
  min_count                     = var.gateway_count.min
  max_count                     = var.gateway_count.max
  grpc_port                     = local.grpc_port
  stop_timeout_seconds          = 35
  health_check_interval_seconds = 10
  subnet_ids                    = module.network.private_subnet_ids
  security_group_ids            = [module.network.security_group_ids["gateway"]]
  target_group_arn              = module.alb.target_group_arns["gateway"]
  environment = merge(local.common_env, {
    SHUTDOWN_GRACE_MS = "30000"
    JWKS_URL          = "http://chatmgmt.${aws_service_discovery_private_dns_namespace.this.name}:${local.http_port}/.well-known/jwks.json"
  })
  secrets             = local.role_secrets
  dynamodb_table_arns = module.dynamodb.table_arns
  # The ring (D5), the /health probe (chat_counters) and the operator plan's chat scan; never writes.
  dynamodb_read_tables  = ["ring_config", "chat_counters", "chats"]
  dynamodb_write_tables = []
  kafka_policy_json     = module.msk.client_policy_json
  log_retention_days    = var.log_retention_days
  rollback_on_failure   = var.rollback_on_failure
  tags                  = local.tags
}

# Durability plane: the only writer of messages, counters, idempotency keys and delivery state from acks.
module "ingest" {
  source                        = "../ecs-service"
  name_prefix                   = local.name
  role                          = "ingest"
  cluster_arn                   = aws_ecs_cluster.this.arn
  image                         = var.image
  cpu                           = 256
  memory                        = 512
  min_count                     = var.ingest_count.min
  max_count                     = var.ingest_count.max
  grpc_port                     = local.grpc_port
  stop_timeout_seconds          = 35
  health_check_interval_seconds = 10
  subnet_ids                    = module.network.private_subnet_ids
  security_group_ids            = [module.network.security_group_ids["ingest"]]
  environment = merge(local.common_env, {
    SHUTDOWN_GRACE_MS = "10000"
  })
  secrets               = local.role_secrets
  dynamodb_table_arns   = module.dynamodb.table_arns
  dynamodb_read_tables  = ["chats", "chat_memberships"]
  dynamodb_write_tables = ["messages", "chat_counters", "idempotency_keys", "delivery_state", "actor_activations", "ring_config"]
  kafka_policy_json     = module.msk.client_policy_json
  log_retention_days    = var.log_retention_days
  rollback_on_failure   = var.rollback_on_failure
  tags                  = local.tags
}

# Fanout plane: reads members, never writes DynamoDB.
module "fanout" {
  source                        = "../ecs-service"
  name_prefix                   = local.name
  role                          = "fanout"
  cluster_arn                   = aws_ecs_cluster.this.arn
  image                         = var.image
  cpu                           = 256
  memory                        = 512
  min_count                     = var.fanout_count.min
  max_count                     = var.fanout_count.max
  stop_timeout_seconds          = 35
  health_check_interval_seconds = 15
  subnet_ids                    = module.network.private_subnet_ids
  security_group_ids            = [module.network.security_group_ids["fanout"]]
  environment = merge(local.common_env, {
    SHUTDOWN_GRACE_MS = "10000"
  })
  secrets               = local.role_secrets
  dynamodb_table_arns   = module.dynamodb.table_arns
  dynamodb_read_tables  = ["ring_config", "chat_counters", "chats", "chat_memberships"]
  dynamodb_write_tables = []
  kafka_policy_json     = module.msk.client_policy_json
  log_retention_days    = var.log_retention_days
  rollback_on_failure   = var.rollback_on_failure
  tags                  = local.tags
}

# Management plane: users, sessions, OTP, chats and membership; reads history; operators' ring changes.
# The signing key reaches the process as JWT_PRIVATE_KEY_PEM, which docker-entrypoint.sh writes to
# JWT_PRIVATE_KEY_FILE before node starts (the option takes a file).
module "chatmgmt" {
  source                         = "../ecs-service"
  name_prefix                    = local.name
  role                           = "chatmgmt"
  cluster_arn                    = aws_ecs_cluster.this.arn
  image                          = var.image
  cpu                            = 256
  memory                         = 512
  min_count                      = var.chatmgmt_count.min
  max_count                      = var.chatmgmt_count.max
  stop_timeout_seconds           = 35
  health_check_interval_seconds  = 10
  subnet_ids                     = module.network.private_subnet_ids
  security_group_ids             = [module.network.security_group_ids["chatmgmt"]]
  target_group_arn               = module.alb.target_group_arns["chatmgmt"]
  service_discovery_namespace_id = aws_service_discovery_private_dns_namespace.this.id
  environment = merge(local.common_env, {
    SHUTDOWN_GRACE_MS    = "10000"
    JWT_PRIVATE_KEY_FILE = "/var/lib/messaging/jwt-signing-key.pem"
    # One-time codes go out as SMS through SNS, with the task role's sns:Publish.
    SMS_SENDER = "sns"
    SNS_REGION = var.region
  })
  secrets = merge(local.role_secrets, {
    OTP_PEPPER          = module.secrets.arns["otp_pepper"]
    JWT_PRIVATE_KEY_PEM = module.secrets.arns["jwt_private_key"]
  })
  dynamodb_table_arns  = module.dynamodb.table_arns
  dynamodb_read_tables = ["messages", "chat_counters"]
  dynamodb_write_tables = [
    "users", "sessions", "otp_requests", "rate_limits", "request_idempotency",
    "chats", "chat_memberships", "direct_chat_index", "delivery_state", "ring_config",
  ]
  kafka_policy_json   = module.msk.client_policy_json
  sns_publish_sms     = true
  log_retention_days  = var.log_retention_days
  rollback_on_failure = var.rollback_on_failure
  tags                = local.tags
}
