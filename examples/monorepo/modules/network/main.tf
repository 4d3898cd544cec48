# A network: a VPC and one subnet per zone, modelled with terraform_data so
# the example plans without downloading providers.
variable "environment" {
  type = string
}

variable "cidr" {
  type = string
}

variable "zones" {
  type = list(string)
}

module "naming" {
  source      = "../naming"
  environment = var.environment
  component   = "network"
}

resource "terraform_data" "vpc" {
  input = {
    name = "${module.naming.prefix}-vpc"
    cidr = var.cidr
    tags = module.naming.tags
  }
}

resource "terraform_data" "subnet" {
  for_each = toset(var.zones)
  input = {
    name = "${module.naming.prefix}-${each.key}"
    vpc  = terraform_data.vpc.output.name
    cidr = cidrsubnet(var.cidr, 4, index(var.zones, each.key))
  }
}

output "vpc_name" {
  value = terraform_data.vpc.output.name
}

output "subnets" {
  value = { for z, s in terraform_data.subnet : z => s.output.cidr }
}
