package review

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		body string
		want command
		ok   bool
		err  string
	}{
		{"looks good to me", command{}, false, ""},
		{"strata plan", command{Name: "plan"}, true, ""},
		{"  Strata apply -s live/prod/app --stack ./live/prod/db/\n\nthanks!", command{Name: "apply", Stacks: []string{"live/prod/app", "live/prod/db"}}, true, ""},
		{"strata", command{Name: "help"}, true, ""},
		{"strata unlock", command{Name: "unlock"}, true, ""},
		{"strata approve-policies", command{Name: "approve-policies"}, true, ""},
		{"strata destroy", command{}, true, `unknown command "strata destroy"`},
		{"strata plan --force", command{}, true, "unknown flag: --force"},
		{"strata apply live/prod/app", command{}, true, "name stacks with -s DIR"},
		{"I think strata plan is wrong", command{}, false, ""},
		{"strata plan -s ./live/app/@prod", command{Name: "plan", Stacks: []string{"live/app@prod"}}, true, ""},
		{"strata plan -s live/app@prod -- -target=terraform_data.x --target 'module.a.terraform_data.y[\"k\"]'", command{Name: "plan", Stacks: []string{"live/app@prod"},
			Targets: []string{"terraform_data.x", `module.a.terraform_data.y["k"]`}}, true, ""},
		{"strata plan -s live/app -- -chdir=/tmp", command{}, true, "only -target may follow `--`, not \"-chdir=/tmp\""},
		{"strata plan -s live/app -- -target", command{}, true, "-target needs a resource address"},
		{"strata plan -- -target=terraform_data.x", command{}, true, "name the stack with -s DIR"},
		{"strata apply -s live/app -- -target=terraform_data.x", command{}, true, "nothing may follow `--`"},
	} {
		got, ok, err := parseCommand(tc.body)
		if ok != tc.ok || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: ok=%v err=%v, want ok=%v err~%q", tc.body, ok, err, tc.ok, tc.err)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.body, got, tc.want)
		}
	}
}
