# Helpers for reading a Terraform plan JSON (terraform show -json PLANFILE),
# shared by the example rules. Import it as:
#
#   import data.strata.terraform as tf
package strata.terraform

# managed_changes are the planned changes of managed resources (data sources
# left out).
managed_changes contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
}

# destroys(rc) holds when the change deletes the object, alone or as part of
# a replace.
destroys(rc) if "delete" in rc.change.actions

# replaces(rc) holds when the object is destroyed and created again.
replaces(rc) if {
	"delete" in rc.change.actions
	"create" in rc.change.actions
}

# writes(rc) holds when the change creates or updates the object (a replace
# creates one).
writes(rc) if "create" in rc.change.actions

writes(rc) if "update" in rc.change.actions

# tags(rc, values) are the tags of rc in values (rc.change.before or
# rc.change.after): tags_all (which holds the provider's default_tags)
# merged with tags. terraform_data has no tags attribute, so its tags are
# read from input.tags; that lets the rules be tried with Terraform's
# built-in resources.
tags(rc, values) := _object(_object(values, "input"), "tags") if {
	rc.type == "terraform_data"
} else := object.union(_object(values, "tags_all"), _object(values, "tags"))

# taggable(rc, values) holds when rc has a tags attribute in values.
taggable(rc, values) if {
	rc.type != "terraform_data"
	is_object(values)
	"tags" in object.keys(values)
}

taggable(rc, values) if {
	rc.type == "terraform_data"
	is_object(values.input)
	"tags" in object.keys(values.input)
}

# tags_unknown(rc) holds when the planned tags as a whole are only known
# after apply (computed from another resource's attributes, say).
tags_unknown(rc) if rc.change.after_unknown.tags == true

tags_unknown(rc) if rc.change.after_unknown.tags_all == true

tags_unknown(rc) if {
	rc.type == "terraform_data"
	rc.change.after_unknown.input == true
}

tags_unknown(rc) if {
	rc.type == "terraform_data"
	rc.change.after_unknown.input.tags == true
}

# planned_tag_keys(rc) are the tag keys rc will have after apply, those
# whose value is unknown until then included.
planned_tag_keys(rc) := object.keys(tags(rc, rc.change.after)) | object.keys(tags(rc, rc.change.after_unknown))

# _object(x, key) is x[key] when both are objects, else {}.
_object(x, key) := x[key] if {
	is_object(x)
	is_object(x[key])
} else := {}
