# Resources tagged protected must never be destroyed: neither deleted nor
# replaced. A resource is protected when its current tags (tags or tags_all;
# input.tags for terraform_data) have a "protected" tag whose value is not
# "false", "no", "0" or empty.
package main

import data.strata.terraform as tf

deny_protected contains msg if {
	some rc in tf.managed_changes
	tf.destroys(rc)
	protected_resource(rc)
	msg := sprintf("%s is tagged protected and would be %s", [rc.address, destroy_verb(rc)])
}

protected_resource(rc) if {
	value := tf.tags(rc, rc.change.before).protected
	not lower(sprintf("%v", [value])) in {"false", "no", "0", ""}
}

destroy_verb(rc) := "replaced" if tf.replaces(rc) else := "destroyed"
