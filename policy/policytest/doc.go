// Package policytest makes real Terraform plan JSON for tests, with the
// terraform binary on PATH, built-in terraform_data resources and local
// modules only, so no provider is downloaded.
package policytest
