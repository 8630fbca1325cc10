# The event log: MSK Serverless (IAM authentication over TLS on 9098 — it supports nothing else) and the
# topics of D10 with their partition counts (production 64/16/16/8). Serverless fixes replication at 3 and
# min.insync.replicas at 2 (spec §2: RF 3, min ISR 2); retention is 7 days (spec §2).
#
# Topics are created through the Kafka API (provider Mongey/kafka), so whoever runs Terraform must reach the
# private brokers (e.g. a runner inside the VPC), and the cluster must exist first:
#   terraform apply -target=module.platform.module.msk.aws_msk_serverless_cluster.this   # once
# With manage_topics = false the roles create missing topics at start instead (runtime/topics.ts) with the
# partition counts of their MESSAGES_PARTITIONS / LIFECYCLE_PARTITIONS / DEAD_LETTER_PARTITIONS.

resource "aws_msk_serverless_cluster" "this" {
  cluster_name = var.name

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  client_authentication {
    sasl {
      iam {
        enabled = true
      }
    }
  }

  tags = var.tags
}

locals {
  # runtime/topics.ts TOPICS => partitions (D10). Keys are Kafka topic names.
  topics = {
    "messages.persisted"  = var.messages_partitions
    "memberships.changed" = var.lifecycle_partitions
    "chats.created"       = var.lifecycle_partitions
    "dead_letters"        = var.dead_letter_partitions
  }
}

resource "kafka_topic" "this" {
  for_each           = var.manage_topics ? local.topics : {}
  name               = each.key
  partitions         = each.value
  replication_factor = 3
  config = {
    "cleanup.policy"         = "delete"
    "retention.ms"           = tostring(var.retention_hours * 3600 * 1000)
    "message.timestamp.type" = "CreateTime"
  }
  depends_on = [aws_msk_serverless_cluster.this]
}

data "aws_msk_bootstrap_brokers" "this" {
  cluster_arn = aws_msk_serverless_cluster.this.arn
}

# What a client role may do on the cluster (IAM auth): attach to task roles that use Kafka.
data "aws_iam_policy_document" "client" {
  statement {
    sid       = "Cluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [aws_msk_serverless_cluster.this.arn]
  }
  statement {
    sid = "Topics"
    actions = [
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:CreateTopic",
      "kafka-cluster:ReadData",
      "kafka-cluster:WriteData",
    ]
    resources = ["${local.topic_arn_prefix}/*"]
  }
  statement {
    sid       = "Groups"
    actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
    resources = ["${local.group_arn_prefix}/*"]
  }
}

locals {
  # arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -> topic/… and group/… ARNs of the same cluster.
  topic_arn_prefix = replace(aws_msk_serverless_cluster.this.arn, ":cluster/", ":topic/")
  group_arn_prefix = replace(aws_msk_serverless_cluster.this.arn, ":cluster/", ":group/")
}
