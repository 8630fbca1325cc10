# Production: the partition counts of D10 (64/16/16/8), the task counts of spec §5, two NAT gateways, a Redis
# replica, HTTPS, deletion protection, automatic rollback.
#   terraform init -backend-config=backend.hcl && terraform apply -var image=<registry>/messaging-platform:<sha>
# See deploy/README.md (Terraform) for the first apply (the MSK cluster before its topics).

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws    = { source = "hashicorp/aws", version = "~> 5.70" }
    kafka  = { source = "Mongey/kafka", version = "~> 0.8" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
    tls    = { source = "hashicorp/tls", version = "~> 4.0" }
  }
  # State in S3 (bucket, key, region, lock table given by -backend-config): it holds generated secrets.
  backend "s3" {}
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { ManagedBy = "terraform", Repository = "messaging-platform" }
  }
}

# Topics go through the Kafka API of the cluster this configuration creates (IAM auth over TLS).
provider "kafka" {
  bootstrap_servers = split(",", module.platform.kafka_bootstrap_brokers)
  tls_enabled       = true
  sasl_mechanism    = "aws-iam"
  sasl_aws_region   = var.region
}

module "platform" {
  source      = "../../modules/platform"
  environment = "prod"
  region      = var.region
  image       = var.image

  vpc_cidr           = "10.40.0.0/16"
  az_count           = 3
  single_nat_gateway = false

  deletion_protection = true
  manage_topics       = var.manage_topics
  # D10.
  messages_partitions    = 64
  lifecycle_partitions   = 16
  dead_letter_partitions = 8

  redis_node_type = "cache.r7g.large"
  redis_replicas  = 1
  certificate_arn = var.certificate_arn

  # spec §5.
  gateway_count  = { min = 2, max = 10 }
  ingest_count   = { min = 2, max = 8 }
  fanout_count   = { min = 2, max = 8 }
  chatmgmt_count = { min = 2, max = 4 }

  log_level                   = "info"
  log_retention_days          = 90
  rollback_on_failure         = true
  secret_recovery_window_days = 30
}
