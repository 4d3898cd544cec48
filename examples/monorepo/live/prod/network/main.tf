module "network" {
  source      = "../../../modules/network"
  environment = "prod"
  cidr        = "10.0.0.0/16"
  zones       = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

output "vpc_name" {
  value = module.network.vpc_name
}
