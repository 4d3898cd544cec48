module "network" {
  source      = "../../../modules/network"
  environment = "staging"
  cidr        = "10.1.0.0/16"
  zones       = ["eu-west-1a"]
}

output "vpc_name" {
  value = module.network.vpc_name
}
