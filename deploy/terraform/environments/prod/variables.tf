variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "image" {
  description = "The platform image, e.g. <account>.dkr.ecr.<region>.amazonaws.com/messaging-platform:<commit sha>; promoted from dev without a rebuild."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the public HTTPS (wss://) listener."
  type        = string
}

variable "manage_topics" {
  description = "Create the Kafka topics with Terraform (the runner must reach MSK inside the VPC)."
  type        = bool
  default     = true
}
