# A service: a named workload with a size, tagged by the naming module.
variable "environment" {
  type = string
}

variable "name" {
  type = string
}

variable "size" {
  type    = string
  default = "small"
}

variable "settings" {
  type    = map(string)
  default = {}
}

module "naming" {
  source      = "../naming"
  environment = var.environment
  component   = var.name
}

resource "terraform_data" "service" {
  input = {
    name     = module.naming.prefix
    size     = var.size
    settings = var.settings
    tags     = module.naming.tags
  }
}

output "name" {
  value = terraform_data.service.output.name
}
