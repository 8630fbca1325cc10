# dev: small and cheap — one NAT gateway, two zones, a single Redis node, HTTP only unless a certificate
# is given, no deletion protection, secrets deletable at once. Partition counts stay small (8/4/2), like local runs.
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
  environment = "dev"
  region      = var.region
  image       = var.image

  vpc_cidr           = "10.41.0.0/16"
  az_count           = 2
  single_nat_gateway = true

  deletion_protection = false
  manage_topics       = var.manage_topics
  # Small counts for dev; production uses D10 (64/16/16/8).
  messages_partitions    = 8
  lifecycle_partitions   = 4
  dead_letter_partitions = 2

  redis_node_type = "cache.t4g.small"
  redis_replicas  = 0
  certificate_arn = var.certificate_arn

  # One or two of each; ingest keeps two to exercise the ring.
  gateway_count  = { min = 1, max = 2 }
  ingest_count   = { min = 2, max = 3 }
  fanout_count   = { min = 1, max = 2 }
  chatmgmt_count = { min = 1, max = 2 }

  log_level                   = "debug"
  log_retention_days          = 14
  rollback_on_failure         = false
  secret_recovery_window_days = 0
}
