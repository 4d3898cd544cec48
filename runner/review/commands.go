package review

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Comment commands people type on a merge request.
const (
	cmdPlan            = "plan"
	cmdApply           = "apply"
	cmdUnlock          = "unlock"
	cmdApprovePolicies = "approve-policies"
	cmdHelp            = "help"
)

// command is a parsed comment command.
type command struct {
	Name   string
	Stacks []string // -s/--stack, for plan and apply
}

// helpText answers `strata help` and any command strata cannot read.
const helpText = "strata understands these commands, each on the first line of a comment:\n\n" +
	"| command | what it does |\n| --- | --- |\n" +
	"| `strata plan` | plan every stack this merge request touches again |\n" +
	"| `strata plan -s DIR` | plan only the stack in DIR (repeat `-s` for more) |\n" +
	"| `strata apply` | apply the reviewed plans, once every requirement holds |\n" +
	"| `strata apply -s DIR` | apply only the plan of the stack in DIR |\n" +
	"| `strata unlock` | release this merge request's locks and discard its plans |\n" +
	"| `strata approve-policies` | (policy owners) accept the failing policy checks of this commit |\n" +
	"| `strata help` | show this help |\n"

// parseCommand reads a comment. ok is false when the comment is not meant
// for strata (its first word is not "strata"); err is set when it is but
// cannot be understood, and says what is wrong.
func parseCommand(body string) (c command, ok bool, err error) {
	line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(body), "\n", 2)[0])
	fields := strings.Fields(line)
	if len(fields) == 0 || strings.ToLower(fields[0]) != "strata" {
		return command{}, false, nil
	}
	if len(fields) == 1 {
		return command{Name: cmdHelp}, true, nil
	}
	c.Name = strings.ToLower(fields[1])
	fs := pflag.NewFlagSet("strata "+c.Name, pflag.ContinueOnError)
	fs.SetOutput(discard{})
	switch c.Name {
	case cmdPlan, cmdApply:
		fs.StringArrayVarP(&c.Stacks, "stack", "s", nil, "stack directory")
	case cmdUnlock, cmdApprovePolicies, cmdHelp:
	default:
		return command{}, true, fmt.Errorf("unknown command %q", "strata "+fields[1])
	}
	if err := fs.Parse(fields[2:]); err != nil {
		return command{}, true, fmt.Errorf("strata %s: %v", c.Name, err)
	}
	if fs.NArg() > 0 {
		return command{}, true, fmt.Errorf("strata %s: unexpected %q (name stacks with -s DIR)", c.Name, strings.Join(fs.Args(), " "))
	}
	for i, s := range c.Stacks {
		c.Stacks[i] = strings.Trim(strings.TrimPrefix(s, "./"), "/")
	}
	return c, true, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
