package main

test_providers_allowed_by_default if {
	plan := {
		"resource_changes": [
			{"address": "aws_s3_bucket.a", "provider_name": "registry.terraform.io/hashicorp/aws"},
			{"address": "terraform_data.b", "provider_name": "terraform.io/builtin/terraform"},
		],
		"configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}},
	}
	count(deny_provider_not_allowed) == 0 with input as plan
}

test_other_providers_denied if {
	plan := {
		"resource_changes": [{"address": "evil_thing.a", "provider_name": "registry.terraform.io/evilcorp/evil"}],
		"configuration": {"provider_config": {
			"module.m:shady": {"name": "shady", "full_name": "registry.terraform.io/shady/shady"},
			"nested": {"name": "nested", "full_name": "registry.terraform.io/hashicorp/aws/extra"},
		}},
	}
	deny_provider_not_allowed == {
		"provider registry.terraform.io/evilcorp/evil is not allowed (allowed: terraform.io/builtin/terraform, registry.terraform.io/hashicorp/*)",
		"provider registry.terraform.io/shady/shady is not allowed (allowed: terraform.io/builtin/terraform, registry.terraform.io/hashicorp/*)",
		"provider registry.terraform.io/hashicorp/aws/extra is not allowed (allowed: terraform.io/builtin/terraform, registry.terraform.io/hashicorp/*)",
	} with input as plan
}

test_providers_from_config if {
	plan := {"resource_changes": [{"address": "evil_thing.a", "provider_name": "registry.terraform.io/evilcorp/evil"}]}
	count(deny_provider_not_allowed) == 0 with input as plan with data.strata.config.allowed_providers as ["registry.terraform.io/evilcorp/*"]
}

module_plan := {"configuration": {"root_module": {
	"resources": [{"address": "terraform_data.x", "expressions": {"input": {"constant_value": {"module_calls": {"fake": {"source": "not/a/call"}}}}}}],
	"module_calls": {
		"net": {"source": "./modules/net", "module": {"module_calls": {
			"vpc": {"source": "terraform-aws-modules/vpc/aws", "module": {"module_calls": {"deep": {"source": "git::https://example.com/deep.git"}}}},
			"local": {"source": "../shared"},
		}}},
		"app": {"source": "../../modules/app"},
	},
}}}

test_module_sources_read_at_every_depth if {
	sources := module_sources with input as module_plan
	sources == {
		"module.net": "./modules/net",
		"module.net.module.vpc": "terraform-aws-modules/vpc/aws",
		"module.net.module.vpc.module.deep": "git::https://example.com/deep.git",
		"module.net.module.local": "../shared",
		"module.app": "../../modules/app",
	}
}

test_only_local_modules_by_default if {
	deny_module_source_not_allowed == {
		`module.net.module.vpc: module source "terraform-aws-modules/vpc/aws" is not allowed (allowed: ./**, ../**)`,
		`module.net.module.vpc.module.deep: module source "git::https://example.com/deep.git" is not allowed (allowed: ./**, ../**)`,
	} with input as module_plan
}

test_module_sources_from_config if {
	count(deny_module_source_not_allowed) == 0 with input as module_plan
		with data.strata.config.allowed_module_sources as ["./**", "../**", "terraform-aws-modules/*/aws", "git::https://example.com/**"]
	deny_module_source_not_allowed == {`module.app: module source "../../modules/app" is not allowed (allowed: ./**, ../shared, terraform-aws-modules/*/aws, git::https://example.com/**)`} with input as module_plan
		with data.strata.config.allowed_module_sources as ["./**", "../shared", "terraform-aws-modules/*/aws", "git::https://example.com/**"]
}
