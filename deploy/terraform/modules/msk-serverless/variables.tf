variable "name" {
  description = "Cluster name."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cluster's endpoints (at least two zones)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the cluster (network module's `msk` group: 9098 from the roles only)."
  type        = list(string)
}

variable "manage_topics" {
  description = "Create the topics with Terraform (needs network access to the brokers); false: the roles create them."
  type        = bool
  default     = true
}

variable "messages_partitions" {
  description = "Partitions of messages.persisted (D10: 64 in production). Never changed in place: a change means a new topic."
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

variable "retention_hours" {
  description = "Retention of every topic (spec §2: 7 days, replayable)."
  type        = number
  default     = 168
}

variable "tags" {
  description = "Tags of the cluster."
  type        = map(string)
  default     = {}
}
