output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Subnets of the load balancer."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets of the tasks, MSK and ElastiCache."
  value       = aws_subnet.private[*].id
}

output "security_group_ids" {
  description = "Group name (alb, gateway, ingest, fanout, chatmgmt, redis, msk, operations) => security group id. Attach `operations` to the monitoring (Prometheus) and operator tasks that need the roles' internal port."
  value       = { for name, group in aws_security_group.this : name => group.id }
}

output "dynamodb_endpoint_id" {
  description = "The DynamoDB gateway endpoint."
  value       = aws_vpc_endpoint.dynamodb.id
}
