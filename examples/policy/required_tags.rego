# Resources that are created or updated and have a tags attribute must carry
# the required tags: "owner" and "environment" unless
# data.strata.config.required_tags lists others. tags_all counts, so a
# provider's default_tags satisfy the rule; so does a tag whose value is
# only known after apply. When the tags as a whole are unknown until apply,
# the rule cannot check them and warns instead.
package main

import data.strata.terraform as tf

default required_tags := {"owner", "environment"}

required_tags := {t | some t in configured} if {
	configured := data.strata.config.required_tags
}

deny_missing_tags contains msg if {
	some rc in tf.managed_changes
	tf.writes(rc)
	tf.taggable(rc, rc.change.after)
	not tf.tags_unknown(rc)
	missing := required_tags - tf.planned_tag_keys(rc)
	count(missing) > 0
	msg := sprintf("%s is missing required tags: %s", [rc.address, concat(", ", sort(missing))])
}

warn_tags_unknown contains msg if {
	some rc in tf.managed_changes
	tf.writes(rc)
	tf.tags_unknown(rc)
	msg := sprintf("%s: tags are only known after apply, required tags not checked", [rc.address])
}
