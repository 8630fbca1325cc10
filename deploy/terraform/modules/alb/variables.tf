variable "name" {
  description = "Load balancer name (<= 32 characters with the target group suffixes `-gateway`/`-chatmgmt`: keep it <= 23)."
  type        = string
  validation {
    condition     = length(var.name) <= 23
    error_message = "name must be at most 23 characters (target group names are `<name>-chatmgmt`, at most 32)."
  }
}

variable "vpc_id" {
  description = "VPC of the targets."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets (at least two zones)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the load balancer (network module's `alb` group)."
  type        = list(string)
}

variable "target_port" {
  description = "PORT (the public listener) of gateways and chat management; never INTERNAL_PORT."
  type        = number
  default     = 8080
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS (wss://). Null: HTTP only (dev)."
  type        = string
  default     = null
}

variable "idle_timeout_seconds" {
  description = "Idle timeout of connections; above the 60 s heartbeat-based idle close (D6) so the server, not the ALB, closes idle sockets."
  type        = number
  default     = 300
  validation {
    condition     = var.idle_timeout_seconds > 60
    error_message = "idle_timeout_seconds must exceed the 60 s WebSocket idle close (D6)."
  }
}

variable "deregistration_delay_seconds" {
  description = "How long a deregistering target keeps its connections: at least the gateway drain (30 s)."
  type        = number
  default     = 35
  validation {
    condition     = var.deregistration_delay_seconds >= 30
    error_message = "deregistration_delay_seconds must cover the 30 s gateway drain."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the load balancer."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
