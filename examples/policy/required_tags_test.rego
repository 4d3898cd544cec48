package main

tagged_change(address, type, actions, after, after_unknown) := {
	"address": address,
	"mode": "managed",
	"type": type,
	"change": {"actions": actions, "after": after, "after_unknown": after_unknown},
}

test_missing_tags_denied if {
	plan := {"resource_changes": [tagged_change("aws_s3_bucket.logs", "aws_s3_bucket", ["create"], {"tags": {"Name": "logs"}}, {})]}
	deny_missing_tags == {"aws_s3_bucket.logs is missing required tags: environment, owner"} with input as plan
}

test_update_and_replace_checked if {
	plan := {"resource_changes": [
		tagged_change("aws_s3_bucket.a", "aws_s3_bucket", ["update"], {"tags": {"owner": "x"}}, {}),
		tagged_change("aws_s3_bucket.b", "aws_s3_bucket", ["delete", "create"], {"tags": null}, {}),
	]}
	deny_missing_tags == {
		"aws_s3_bucket.a is missing required tags: environment",
		"aws_s3_bucket.b is missing required tags: environment, owner",
	} with input as plan
}

test_default_tags_and_unknown_values_count if {
	plan := {"resource_changes": [tagged_change(
		"aws_s3_bucket.logs", "aws_s3_bucket", ["create"],
		{"tags": {"Name": "logs"}, "tags_all": {"Name": "logs", "environment": "prod"}},
		{"tags": {"owner": true}},
	)]}
	count(deny_missing_tags) == 0 with input as plan
}

test_terraform_data_input_tags if {
	plan := {"resource_changes": [
		tagged_change("terraform_data.a", "terraform_data", ["create"], {"input": {"tags": {"owner": "x"}}}, {}),
		tagged_change("terraform_data.untagged", "terraform_data", ["create"], {"input": "x"}, {}),
	]}
	deny_missing_tags == {"terraform_data.a is missing required tags: environment"} with input as plan
}

test_unknown_tags_warn_instead if {
	plan := {"resource_changes": [tagged_change("aws_s3_bucket.logs", "aws_s3_bucket", ["create"], {"tags": null}, {"tags": true})]}
	count(deny_missing_tags) == 0 with input as plan
	warn_tags_unknown == {"aws_s3_bucket.logs: tags are only known after apply, required tags not checked"} with input as plan
}

test_untaggable_deleted_and_unchanged_ignored if {
	plan := {"resource_changes": [
		tagged_change("aws_iam_role_policy.p", "aws_iam_role_policy", ["create"], {"policy": "{}"}, {}),
		tagged_change("aws_s3_bucket.gone", "aws_s3_bucket", ["delete"], null, {}),
		tagged_change("aws_s3_bucket.same", "aws_s3_bucket", ["no-op"], {"tags": {}}, {}),
		{"address": "data.aws_s3_bucket.d", "mode": "data", "type": "aws_s3_bucket", "change": {"actions": ["read"], "after": {"tags": {}}}},
	]}
	count(deny_missing_tags) == 0 with input as plan
}

test_required_tags_from_config if {
	plan := {"resource_changes": [tagged_change("aws_s3_bucket.logs", "aws_s3_bucket", ["create"], {"tags": {"owner": "x"}}, {})]}
	count(deny_missing_tags) == 0 with input as plan with data.strata.config.required_tags as ["owner"]
	deny_missing_tags == {"aws_s3_bucket.logs is missing required tags: cost-center"} with input as plan
		with data.strata.config.required_tags as ["owner", "cost-center"]
}
