variable "name_prefix" {
  description = "Prefix of the task family, roles and log group (`<prefix>-<role>`)."
  type        = string
}

variable "role" {
  description = "Platform role this service runs (`--role`)."
  type        = string
  validation {
    condition     = contains(["gateway", "ingest", "fanout", "chatmgmt"], var.role)
    error_message = "role must be gateway, ingest, fanout or chatmgmt."
  }
}

variable "cluster_arn" {
  description = "ECS cluster."
  type        = string
}

variable "image" {
  description = "The platform image (deploy/Dockerfile), tagged by commit SHA."
  type        = string
}

variable "cpu" {
  description = "Task CPU units (1024 = 1 vCPU)."
  type        = number
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64 (the image must be built for it)."
  type        = string
  default     = "X86_64"
}

variable "min_count" {
  description = "Fewest tasks (also the initial count)."
  type        = number
}

variable "max_count" {
  description = "Most tasks the autoscaler may run."
  type        = number
}

variable "cpu_target_percent" {
  description = "Average CPU the autoscaler keeps."
  type        = number
  default     = 60
}

variable "scale_in_cooldown_seconds" {
  description = "Pause after a scale-in."
  type        = number
  default     = 300
}

variable "environment" {
  description = "Environment of the process: options of runtime/config.ts only (test/deploy/terraform.test.ts checks the names)."
  type        = map(string)
}

variable "secrets" {
  description = "Environment variable => Secrets Manager ARN, injected at start."
  type        = map(string)
  default     = {}
}

variable "http_port" {
  description = "PORT: REST, WebSocket, /health."
  type        = number
  default     = 8080
}

variable "internal_port" {
  description = "INTERNAL_PORT: the operator API, inspector, metrics and detailed /health (never behind the load balancer)."
  type        = number
  default     = 9090
}

variable "grpc_port" {
  description = "GRPC_PORT to publish (ingest, gateway); null for roles without an internal gRPC server."
  type        = number
  default     = null
}

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL (Fargate: at most 120); must exceed SHUTDOWN_GRACE_MS."
  type        = number
  default     = 35
  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be within 2..120 (Fargate's limit)."
  }
}

variable "health_check_interval_seconds" {
  description = "Container health check period (spec §5: 10 s, fanout 15 s)."
  type        = number
  default     = 10
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "The role's security group (network module)."
  type        = list(string)
}

variable "target_group_arn" {
  description = "Load balancer target group of the role's HTTP port, or null."
  type        = string
  default     = null
}

variable "service_discovery_namespace_id" {
  description = "Cloud Map namespace to register `<role>.<namespace>` in, or null."
  type        = string
  default     = null
}

variable "dynamodb_table_arns" {
  description = "Table key => ARN of every table (DescribeTable on all at start)."
  type        = map(string)
}

variable "dynamodb_read_tables" {
  description = "Table keys the role reads."
  type        = list(string)
  default     = []
}

variable "dynamodb_write_tables" {
  description = "Table keys the role writes (and reads)."
  type        = list(string)
  default     = []
}

variable "kafka_policy_json" {
  description = "IAM policy for the MSK cluster (msk-serverless module's client_policy_json), or null."
  type        = string
  default     = null
}

variable "sns_publish_sms" {
  description = "Let the task send SMS through SNS (SMS_SENDER=sns: chat management's one-time codes)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 30
}

variable "rollback_on_failure" {
  description = "Roll a deployment that fails its health checks back (spec §5: prod auto-rolls back)."
  type        = bool
  default     = true
}

variable "enable_execute_command" {
  description = "Allow `aws ecs execute-command` into tasks (debugging)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
