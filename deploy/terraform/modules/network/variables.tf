variable "name" {
  description = "Name prefix of the VPC and its resources."
  type        = string
}

variable "region" {
  description = "AWS region (for the DynamoDB VPC endpoint's service name)."
  type        = string
}

variable "cidr_block" {
  description = "CIDR of the VPC; /16 recommended (subnets are /20)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread subnets over (2-4)."
  type        = number
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be 2, 3 or 4 (the ALB needs two zones; subnets are carved for at most 8)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, one zone's failure cuts egress) instead of one per zone."
  type        = bool
  default     = false
}

variable "http_port" {
  description = "PORT of the roles: REST, WebSocket, /health."
  type        = number
  default     = 8080
}

variable "internal_port" {
  description = "INTERNAL_PORT of the roles: /admin/ring, /inspector, /metrics and the detailed /health (operations group only)."
  type        = number
  default     = 9090
}

variable "grpc_port" {
  description = "GRPC_PORT of the roles: IngestService on ingest nodes, GatewayService on gateways."
  type        = number
  default     = 7070
}

variable "alb_listener_ports" {
  description = "Ports the load balancer listens on for clients."
  type        = list(number)
  default     = [80, 443]
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
