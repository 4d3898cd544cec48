# Only allowed providers and module sources may be used.
#
# Providers are matched by their full name (registry.terraform.io/hashicorp/aws)
# against glob patterns in which * stays within one path segment. They are
# read from the resource changes (data sources included) and from the
# provider configurations. Default: Terraform's built-in provider and
# HashiCorp's providers; set data.strata.config.allowed_providers to change
# that.
#
# Module sources are matched as written in module blocks, at any depth, with
# ** crossing path segments. Default: local modules only ("./**", "../**");
# set data.strata.config.allowed_module_sources to allow registry or git
# sources, e.g. "terraform-aws-modules/*/aws" or
# "git::https://gitlab.example.com/platform/**".
package main

default allowed_providers := ["terraform.io/builtin/terraform", "registry.terraform.io/hashicorp/*"]

allowed_providers := data.strata.config.allowed_providers

default allowed_module_sources := ["./**", "../**"]

allowed_module_sources := data.strata.config.allowed_module_sources

used_providers contains rc.provider_name if some rc in input.resource_changes

used_providers contains p.full_name if some p in input.configuration.provider_config

deny_provider_not_allowed contains msg if {
	some name in used_providers
	not provider_allowed(name)
	msg := sprintf("provider %s is not allowed (allowed: %s)", [name, concat(", ", allowed_providers)])
}

provider_allowed(name) if {
	some pattern in allowed_providers
	glob.match(pattern, ["/"], name)
}

# module_sources maps each module call's address (module.a.module.b) to its
# source.
module_sources[address] := call.source if {
	walk(input.configuration.root_module, [path, call])
	module_call_path(path)
	names := [name | some i, name in path; i % 3 == 1]
	address := concat(".", [sprintf("module.%s", [n]) | some n in names])
}

# module_call_path(path) holds for paths module_calls.A(.module.module_calls.B)*
# into the configuration.
module_call_path(path) if {
	count(path) % 3 == 2
	every i, step in path {
		module_call_step(i % 3, step)
	}
}

module_call_step(0, "module_calls")

module_call_step(1, _)

module_call_step(2, "module")

deny_module_source_not_allowed contains msg if {
	some address, source in module_sources
	not module_source_allowed(source)
	msg := sprintf("%s: module source %q is not allowed (allowed: %s)", [address, source, concat(", ", allowed_module_sources)])
}

module_source_allowed(source) if {
	some pattern in allowed_module_sources
	glob.match(pattern, ["/"], source)
}
