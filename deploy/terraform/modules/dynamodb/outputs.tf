output "table_names" {
  description = "Table key => full table name."
  value       = { for key, table in aws_dynamodb_table.this : key => table.name }
}

output "table_arns" {
  description = "Table key => table ARN (IAM policies add `/index/*` for the indexes)."
  value       = { for key, table in aws_dynamodb_table.this : key => table.arn }
}
