data "aws_partition" "current" {}

locals {
  state_bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.state_bucket_name}"
  with_state       = var.state_bucket_name != "" ? [1] : []
}

# Least privilege for the strata runner (server or CI job). `strata setup
# aws` needs more (CreateTable, CreateBucket, ...); run it, or this
# configuration, with an administrator's credentials once.
data "aws_iam_policy_document" "runner" {
  # Locks: conditional PutItem/UpdateItem/DeleteItem, consistent reads, a
  # Scan for `strata locks list`, DescribeTable when a Locker opens. The
  # item actions also cover Terraform's own state locking when the state
  # backend uses this table as its dynamodb_table.
  statement {
    sid = "StrataLocks"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.locks.arn]
  }

  # Artifacts: HeadBucket (when a store opens) and ListObjectsV2 both need
  # s3:ListBucket on the bucket; HeadBucket carries no prefix, so the
  # listing cannot be narrowed with an s3:prefix condition.
  statement {
    sid       = "StrataArtifactsBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid       = "StrataArtifactsObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/${var.artifact_prefix}/*"]
  }

  # The replicas' queue: send, receive, renew and delete on the queue;
  # send (a buried event), receive and make visible again (listing the
  # dead letters) and count on its dead-letter queue. Delivery IDs for
  # deduplication live in the lock table, covered above.
  dynamic "statement" {
    for_each = var.queue_name != "" ? [1] : []
    content {
      sid = "StrataQueue"
      actions = [
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
      ]
      resources = [aws_sqs_queue.events[0].arn, aws_sqs_queue.dead_letters[0].arn]
    }
  }

  # Terraform state of the stacks (S3 backend): read and write the state,
  # and the .tflock files of use_lockfile = true.
  dynamic "statement" {
    for_each = local.with_state
    content {
      sid       = "TerraformStateBucket"
      actions   = ["s3:ListBucket"]
      resources = [local.state_bucket_arn]
    }
  }

  dynamic "statement" {
    for_each = local.with_state
    content {
      sid       = "TerraformStateObjects"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${local.state_bucket_arn}/${var.state_key_prefix}*"]
    }
  }
}

resource "aws_iam_policy" "runner" {
  name        = var.policy_name
  description = "strata runner: locks in ${var.table_name}, artifacts in ${var.bucket_name}/${var.artifact_prefix}"
  policy      = data.aws_iam_policy_document.runner.json
}

resource "aws_iam_role_policy_attachment" "runner" {
  count = var.runner_role_name != "" ? 1 : 0

  role       = var.runner_role_name
  policy_arn = aws_iam_policy.runner.arn
}
