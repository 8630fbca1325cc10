output "cluster_arn" {
  description = "The MSK Serverless cluster."
  value       = aws_msk_serverless_cluster.this.arn
}

output "bootstrap_brokers" {
  description = "SASL/IAM bootstrap brokers (host:9098,...), the value of KAFKA_BROKERS."
  value       = data.aws_msk_bootstrap_brokers.this.bootstrap_brokers_sasl_iam
}

output "client_policy_json" {
  description = "IAM policy a role that produces or consumes needs on this cluster."
  value       = data.aws_iam_policy_document.client.json
}

output "topic_partitions" {
  description = "Topic name => partitions."
  value       = local.topics
}
