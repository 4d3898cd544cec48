output "locks_url" {
  description = "Value for strata's --locks flag."
  value       = "dynamodb://${aws_dynamodb_table.locks.name}"
}

output "store_url" {
  description = "Value for strata's --store flag."
  value       = "s3://${aws_s3_bucket.artifacts.id}/${var.artifact_prefix}"
}

output "queue_url" {
  description = "Value for strata server's --queue flag; empty without queue_name."
  value       = var.queue_name != "" ? "sqs://${aws_sqs_queue.events[0].name}" : ""
}

output "table_arn" {
  description = "ARN of the lock table."
  value       = aws_dynamodb_table.locks.arn
}

output "bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.artifacts.arn
}

output "policy_arn" {
  description = "ARN of the runner's IAM policy."
  value       = aws_iam_policy.runner.arn
}

output "policy_json" {
  description = "The runner's IAM policy document, to attach elsewhere."
  value       = data.aws_iam_policy_document.runner.json
}
