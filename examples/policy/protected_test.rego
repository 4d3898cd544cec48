package main

protected_change(address, type, actions, before) := {
	"address": address,
	"mode": "managed",
	"type": type,
	"change": {"actions": actions, "before": before, "after": null},
}

test_delete_of_protected_resource_denied if {
	plan := {"resource_changes": [protected_change("aws_db_instance.main", "aws_db_instance", ["delete"], {"tags_all": {"protected": "true"}})]}
	deny_protected == {"aws_db_instance.main is tagged protected and would be destroyed"} with input as plan
}

test_replace_of_protected_resource_denied if {
	plan := {"resource_changes": [protected_change("aws_db_instance.main", "aws_db_instance", ["delete", "create"], {"tags": {"Protected": "x", "protected": "yes"}})]}
	deny_protected == {"aws_db_instance.main is tagged protected and would be replaced"} with input as plan
}

test_terraform_data_input_tags if {
	plan := {"resource_changes": [protected_change("terraform_data.keep", "terraform_data", ["create", "delete"], {"input": {"tags": {"protected": true}}})]}
	deny_protected == {"terraform_data.keep is tagged protected and would be replaced"} with input as plan
}

test_unprotected_or_not_destroyed_allowed if {
	plan := {"resource_changes": [
		protected_change("aws_s3_bucket.off", "aws_s3_bucket", ["delete"], {"tags": {"protected": "false"}}),
		protected_change("aws_s3_bucket.none", "aws_s3_bucket", ["delete"], {"tags": {"owner": "a"}}),
		protected_change("aws_s3_bucket.null", "aws_s3_bucket", ["delete"], {"tags": null}),
		protected_change("aws_s3_bucket.kept", "aws_s3_bucket", ["update"], {"tags": {"protected": "true"}}),
	]}
	count(deny_protected) == 0 with input as plan
}
