variable "name" {
  description = "Replication group id (1-40 characters: letters, digits, `-`)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cache nodes."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the nodes (network module's `redis` group: 6379 from the roles only)."
  type        = list(string)
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Read replicas (0 = a single node, no automatic failover)."
  type        = number
  default     = 1
}

variable "apply_immediately" {
  description = "Apply modifications at once instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
