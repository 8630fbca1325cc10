terraform {
  required_providers {
    aws    = { source = "hashicorp/aws", version = ">= 5.70" }
    kafka  = { source = "Mongey/kafka", version = ">= 0.8" }
    random = { source = "hashicorp/random", version = ">= 3.6" }
    tls    = { source = "hashicorp/tls", version = ">= 4.0" }
  }
}
