# Naming conventions shared by every module: one place to change a prefix.
variable "environment" {
  type = string
}

variable "component" {
  type = string
}

locals {
  prefix = "acme-${var.environment}-${var.component}"
}

output "prefix" {
  value = local.prefix
}

output "tags" {
  value = {
    environment = var.environment
    component   = var.component
    managed_by  = "strata"
  }
}
