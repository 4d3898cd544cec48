locals {
  # The app reads a config file shared with other tooling; strata.yaml lists
  # it under watch so a change to it plans this stack.
  config = jsondecode(file("${path.module}/../../../shared/app-config.json"))
}

module "app" {
  source      = "../../../modules/service"
  environment = "staging"
  name        = "app"
  size        = "small"
  settings    = local.config
}

output "app_name" {
  value = module.app.name
}
