module "database" {
  source      = "../../../modules/service"
  environment = "prod"
  name        = "database"
  size        = "large"
}

resource "terraform_data" "backup_policy" {
  input = {
    database       = module.database.name
    retention_days = 30
  }
}
