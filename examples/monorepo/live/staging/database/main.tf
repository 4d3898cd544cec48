module "database" {
  source      = "../../../modules/service"
  environment = "staging"
  name        = "database"
  size        = "small"
}

resource "terraform_data" "backup_policy" {
  input = {
    database       = module.database.name
    retention_days = 7
  }
}
