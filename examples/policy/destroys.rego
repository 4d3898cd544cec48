# A plan may destroy at most max_destroys resources (replaced ones count):
# more than that is usually a mistake (a renamed module, a wrong workspace).
# The limit is 10 unless data.strata.config.max_destroys sets it, e.g. in a
# file policy/config.rego:
#
#   package strata.config
#
#   max_destroys := 3
#
# Every replace is also reported as a warning, so reviewers see it.
package main

import data.strata.terraform as tf

default max_destroys := 10

max_destroys := data.strata.config.max_destroys if is_number(data.strata.config.max_destroys)

destroyed_addresses := sort([rc.address | some rc in tf.managed_changes; tf.destroys(rc)])

deny_too_many_destroys contains msg if {
	n := count(destroyed_addresses)
	n > max_destroys
	msg := sprintf("plan destroys %d resources, more than the limit of %d: %s", [n, max_destroys, address_list(destroyed_addresses)])
}

warn_replace contains msg if {
	some rc in tf.managed_changes
	tf.replaces(rc)
	msg := sprintf("%s will be replaced: its current object is destroyed", [rc.address])
}

# address_list(addrs) lists the first ten addresses and counts the others.
address_list(addrs) := concat(", ", addrs) if {
	count(addrs) <= 10
} else := sprintf("%s and %d more", [concat(", ", array.slice(addrs, 0, 10)), count(addrs) - 10])
