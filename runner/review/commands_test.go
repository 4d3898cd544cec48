package review

import (
	"reflect"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner/comment"
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

// FuzzParseCommand: no comment makes the parser panic; what it accepts is
// a known command with clean stack names, and what it refuses says so in
// a message that, rendered as a reply renders it, mentions nobody.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"strata plan", "strata apply -s live/app -s ./db/", "Strata", "strata @all", "strata plan -s",
		"strata plan --stack=a --stack b", "strata plan -- -target=x", "strata unlock now", "strata\tapply\n-s x", "lgtm", "strata plan -s=\"a b\""} {
		f.Add(s)
	}
	known := map[string]bool{cmdPlan: true, cmdApply: true, cmdUnlock: true, cmdApprovePolicies: true, cmdHelp: true}
	f.Fuzz(func(t *testing.T, body string) {
		c, ok, err := parseCommand(body)
		switch {
		case !ok && (err != nil || c.Name != ""):
			t.Fatalf("%q: not a command, yet %+v %v", body, c, err)
		case ok && err == nil && !known[c.Name]:
			t.Fatalf("%q: unknown command %q accepted", body, c.Name)
		case err != nil:
			if reply := comment.Inert(err.Error()); strings.Contains(reply, "@") && !strings.Contains(reply, "@\u2060") {
				t.Fatalf("the reply to %q mentions someone: %q", body, reply)
			}
		}
		for _, s := range c.Stacks {
			if strings.HasPrefix(s, "./") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
				t.Fatalf("%q: stack %q not cleaned", body, s)
			}
		}
	})
}
