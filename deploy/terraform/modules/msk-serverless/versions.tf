terraform {
  required_providers {
    aws   = { source = "hashicorp/aws", version = ">= 5.70" }
    kafka = { source = "Mongey/kafka", version = ">= 0.8" }
  }
}
