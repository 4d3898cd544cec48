# The same table and bucket as `strata setup aws --table T --bucket B`.

resource "aws_dynamodb_table" "locks" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"

  # The key schema of Terraform's S3-backend lock table: one table can hold
  # both strata's locks (LockID "strata:KEY") and Terraform's.
  hash_key = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  # Lock leases: DynamoDB deletes items whose expires_at (epoch seconds) has
  # passed. strata treats them as free as soon as it passes.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_s3_bucket" "artifacts" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
