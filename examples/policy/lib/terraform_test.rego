package strata.terraform

test_tags_merge_tags_all_and_tags if {
	rc := {"type": "aws_s3_bucket"}
	values := {"tags": {"owner": "a"}, "tags_all": {"owner": "default", "environment": "prod"}}
	tags(rc, values) == {"owner": "a", "environment": "prod"}
}

test_tags_of_terraform_data_come_from_input if {
	tags({"type": "terraform_data"}, {"input": {"tags": {"owner": "a"}}}) == {"owner": "a"}
	tags({"type": "terraform_data"}, {"input": "a string"}) == {}
}

test_tags_of_nothing_are_empty if {
	tags({"type": "aws_instance"}, null) == {}
	tags({"type": "aws_instance"}, {"tags": null}) == {}
}

test_taggable if {
	taggable({"type": "aws_instance"}, {"tags": null})
	not taggable({"type": "aws_iam_policy_document"}, {"json": "{}"})
	taggable({"type": "terraform_data"}, {"input": {"tags": {}}})
	not taggable({"type": "terraform_data"}, {"input": "x"})
	not taggable({"type": "aws_instance"}, null)
}

test_planned_tag_keys_include_unknown_values if {
	rc := {
		"type": "aws_instance",
		"change": {"after": {"tags": {"owner": "a"}}, "after_unknown": {"tags": {"environment": true}}},
	}
	planned_tag_keys(rc) == {"owner", "environment"}
}

test_tags_unknown if {
	tags_unknown({"type": "aws_instance", "change": {"after_unknown": {"tags_all": true}}})
	tags_unknown({"type": "terraform_data", "change": {"after_unknown": {"input": true}}})
	not tags_unknown({"type": "aws_instance", "change": {"after_unknown": {"tags": {"owner": true}}}})
}

test_actions if {
	destroys({"change": {"actions": ["delete"]}})
	destroys({"change": {"actions": ["create", "delete"]}})
	replaces({"change": {"actions": ["delete", "create"]}})
	not replaces({"change": {"actions": ["delete"]}})
	writes({"change": {"actions": ["update"]}})
	not writes({"change": {"actions": ["no-op"]}})
}

test_managed_changes_leave_data_sources_out if {
	changes := managed_changes with input as {"resource_changes": [
		{"address": "aws_instance.a", "mode": "managed"},
		{"address": "data.aws_ami.b", "mode": "data"},
	]}
	{rc.address | some rc in changes} == {"aws_instance.a"}
}
