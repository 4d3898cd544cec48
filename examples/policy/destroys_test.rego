package main

destroy_plan(n, actions) := {"resource_changes": [rc |
	some i in numbers.range(1, n)
	rc := {"address": sprintf("terraform_data.r%02d", [i]), "mode": "managed", "type": "terraform_data", "change": {"actions": actions}}
]}

test_default_limit_is_ten if {
	count(deny_too_many_destroys) == 0 with input as destroy_plan(10, ["delete"])
	deny_too_many_destroys == {"plan destroys 11 resources, more than the limit of 10: terraform_data.r01, terraform_data.r02, terraform_data.r03, terraform_data.r04, terraform_data.r05, terraform_data.r06, terraform_data.r07, terraform_data.r08, terraform_data.r09, terraform_data.r10 and 1 more"} with input as destroy_plan(11, ["delete"])
}

test_replaces_count_and_data_sources_do_not if {
	plan := {"resource_changes": [
		{"address": "a.x", "mode": "managed", "change": {"actions": ["create", "delete"]}},
		{"address": "a.y", "mode": "managed", "change": {"actions": ["delete"]}},
		{"address": "data.a.z", "mode": "data", "change": {"actions": ["delete"]}},
	]}
	deny_too_many_destroys == {"plan destroys 2 resources, more than the limit of 1: a.x, a.y"} with input as plan
		with data.strata.config.max_destroys as 1
}

test_limit_from_config if {
	count(deny_too_many_destroys) == 0 with input as destroy_plan(11, ["delete"]) with data.strata.config.max_destroys as 20
	count(deny_too_many_destroys) == 0 with input as destroy_plan(11, ["delete"]) with data.strata.config.max_destroys as 11
	count(deny_too_many_destroys) == 1 with input as destroy_plan(1, ["delete"]) with data.strata.config.max_destroys as 0
}

test_limit_must_be_a_number if {
	count(deny_too_many_destroys) == 1 with input as destroy_plan(11, ["delete"]) with data.strata.config.max_destroys as "20"
}

test_replace_warns if {
	warn_replace == {"terraform_data.r01 will be replaced: its current object is destroyed"} with input as destroy_plan(1, ["delete", "create"])
	count(warn_replace) == 0 with input as destroy_plan(3, ["delete"])
}
