variable "region" {
  description = "AWS region of the lock table and the artifact bucket."
  type        = string
}

variable "table_name" {
  description = "DynamoDB table for strata's locks (--locks dynamodb://TABLE). It can also serve as the dynamodb_table of Terraform's S3 backend."
  type        = string
  default     = "strata-locks"
}

variable "bucket_name" {
  description = "S3 bucket for strata's artifacts (--store s3://BUCKET/PREFIX). Bucket names are global: pick one of your own."
  type        = string
}

variable "artifact_prefix" {
  description = "Key prefix strata writes artifacts under; the runner may touch objects under it only."
  type        = string
  default     = "strata"

  validation {
    condition     = length(var.artifact_prefix) > 0 && !startswith(var.artifact_prefix, "/") && !endswith(var.artifact_prefix, "/")
    error_message = "artifact_prefix must be non-empty, without a leading or trailing slash."
  }
}

variable "state_bucket_name" {
  description = "Bucket holding the Terraform state of the stacks strata plans and applies (backend.s3.bucket in strata.yaml). Empty: the policy grants no state access."
  type        = string
  default     = ""
}

variable "state_key_prefix" {
  description = "Only state objects whose keys start with this prefix are granted; empty means the whole state bucket."
  type        = string
  default     = ""
}

variable "queue_name" {
  description = "SQS FIFO queue the server's replicas share (--queue sqs://QUEUE.fifo); \".fifo\" is added when missing. Empty: no queue, for a single server or CI jobs."
  type        = string
  default     = ""
}

variable "max_receive_count" {
  description = "Deliveries of a queued event before it goes to the dead-letter queue."
  type        = number
  default     = 5
}

variable "policy_name" {
  description = "Name of the IAM policy for the runner."
  type        = string
  default     = "strata-runner"
}

variable "runner_role_name" {
  description = "IAM role the runner uses (instance, task or CI role). Empty: the policy is created but not attached."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = { "managed-by" = "terraform", "app" = "strata" }
}
