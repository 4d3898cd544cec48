# With queue_name: the SQS FIFO queue several strata replicas share, and
# its dead-letter queue, as `strata setup aws --queue NAME` makes them.

locals {
  with_queue = var.queue_name != "" ? 1 : 0
  queue_base = trimsuffix(var.queue_name, ".fifo")
}

resource "aws_sqs_queue" "dead_letters" {
  count = local.with_queue

  name                      = "${local.queue_base}-dead-letters.fifo"
  fifo_queue                = true
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "events" {
  count = local.with_queue

  name                        = "${local.queue_base}.fifo"
  fifo_queue                  = true
  content_based_deduplication = false
  sqs_managed_sse_enabled     = true
  message_retention_seconds   = 1209600
  receive_wait_time_seconds   = 20

  # After max_receive_count deliveries a message goes to the dead-letter
  # queue (strata moves it there itself, with the reason, when a handler
  # gives up; the policy catches a message whose replicas all died).
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters[0].arn
    maxReceiveCount     = var.max_receive_count
  })
}
