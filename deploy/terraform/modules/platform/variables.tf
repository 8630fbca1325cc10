variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "messaging"
}

variable "environment" {
  description = "Environment name (dev, prod): the second part of every resource name."
  type        = string
}

variable "region" {
  description = "AWS region of everything (AWS_REGION of the roles)."
  type        = string
}

variable "image" {
  description = "The platform image (deploy/Dockerfile) in a registry the tasks can pull, tagged by commit SHA."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones."
  type        = number
  default     = 2
}

variable "single_nat_gateway" {
  description = "One NAT gateway for every zone (cheaper, less available)."
  type        = bool
  default     = false
}

variable "table_prefix" {
  description = "TABLE_PREFIX: prefix of every DynamoDB table name."
  type        = string
  default     = ""
}

variable "deletion_protection" {
  description = "Deletion protection of tables and the load balancer."
  type        = bool
  default     = true
}

variable "manage_topics" {
  description = "Create the Kafka topics with Terraform (needs network access to MSK); false: the roles create them."
  type        = bool
  default     = true
}

variable "messages_partitions" {
  description = "Partitions of messages.persisted (D10: 64 in production)."
  type        = number
  default     = 64
}

variable "lifecycle_partitions" {
  description = "Partitions of memberships.changed and chats.created (D10: 16 in production)."
  type        = number
  default     = 16
}

variable "dead_letter_partitions" {
  description = "Partitions of dead_letters (D10: 8 in production)."
  type        = number
  default     = 8
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_replicas" {
  description = "Redis replicas (0: no failover)."
  type        = number
  default     = 1
}

variable "certificate_arn" {
  description = "ACM certificate of the load balancer's HTTPS listener; null for HTTP only."
  type        = string
  default     = null
}

variable "gateway_count" {
  description = "Gateway tasks, min and max (spec §5: 2-10)."
  type        = object({ min = number, max = number })
  default     = { min = 2, max = 10 }
}

variable "ingest_count" {
  description = "Ingest tasks, min and max (spec §5: 2-8)."
  type        = object({ min = number, max = number })
  default     = { min = 2, max = 8 }
}

variable "fanout_count" {
  description = "Fanout tasks, min and max (spec §5: 2-8)."
  type        = object({ min = number, max = number })
  default     = { min = 2, max = 8 }
}

variable "chatmgmt_count" {
  description = "Chat management tasks, min and max (spec §5: 2-4)."
  type        = object({ min = number, max = number })
  default     = { min = 2, max = 4 }
}

variable "log_level" {
  description = "LOG_LEVEL of every role."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 30
}

variable "rollback_on_failure" {
  description = "Roll failed deployments back automatically."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret stays restorable (0 for throwaway environments)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
