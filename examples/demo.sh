#!/usr/bin/env bash
# Demo: copy examples/monorepo into a throwaway git repository, make the
# kind of change a merge request would, and show what strata does with it.
# Usage: STRATA=bin/strata examples/demo.sh   (make demo does this)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
strata=${STRATA:-strata}
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

git_() {
  git -C "$work/repo" -c user.name=demo -c user.email=demo@example.com "$@"
}

step "A monorepo with two environments, three stacks each, and shared modules"
cp -r "$here/monorepo" "$work/repo"
git_ init -q -b main
git_ add -A
git_ commit -qm "infrastructure as it is today"
(cd "$work/repo" && run "$strata" stacks)

step "Bring the default branch's infrastructure up: plan every stack and apply"
plan_status=0
(cd "$work/repo" && run "$strata" plan --all --quiet --out "$work/plans-main") || plan_status=$?
[ "$plan_status" -eq 2 ] || { echo "strata plan exited $plan_status, expected 2 (changes)" >&2; exit 1; }
(cd "$work/repo" && run "$strata" apply --out "$work/plans-main")

step "A merge request edits the network module, drops a zone in prod and changes the shared app config"
git_ checkout -q -b flow-logs
sed -i 's/    cidr = var.cidr/    cidr = var.cidr\n    flow_logs = true/' "$work/repo/modules/network/main.tf"
sed -i 's/, "eu-west-1c"\]/]/' "$work/repo/live/prod/network/main.tf"
sed -i 's/"info"/"debug"/' "$work/repo/shared/app-config.json"
git_ commit -qam "enable VPC flow logs; two zones in prod; debug logging for the app"
git_ --no-pager diff --stat main...HEAD

step "Which stacks does it touch, and why?"
(cd "$work/repo" && run "$strata" changed --base main)

step "The same, as JSON for scripts"
(cd "$work/repo" && run "$strata" changed --base main --format json)

step "Plan the affected stacks; this is the comment strata posts on the merge request"
plan_status=0
(cd "$work/repo" && run "$strata" plan --base main --out "$work/plans" --format markdown) || plan_status=$?
[ "$plan_status" -eq 2 ] || { echo "strata plan exited $plan_status, expected 2 (changes)" >&2; exit 1; }
grep -q 'will be updated in-place' "$work/plans/live/prod/network/plan.txt" || { echo "the plan of live/prod/network updates nothing" >&2; exit 1; }
grep -q 'will be destroyed' "$work/plans/live/prod/network/plan.txt" || { echo "the plan of live/prod/network destroys nothing" >&2; exit 1; }
echo
echo "The plans, their JSON and text, summary.json and comment.md are in --out:"
(cd "$work/plans" && find . -type f -not -path './.strata/*' | sort | sed 's|^\./|  |')

step "Apply exactly the reviewed plans"
(cd "$work/repo" && run "$strata" apply --out "$work/plans")

step "Plan again: nothing left to do (state outlives the throwaway workspaces)"
(cd "$work/repo" && run "$strata" plan --base main)
