package review

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/strata-iac/strata/stacks"
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
	// Targets are the -target addresses after "--", for plan: a partial
	// plan of the stacks named.
	Targets []string
}

// helpText answers `strata help` and any command strata cannot read.
const helpText = "strata understands these commands, each on the first line of a comment:\n\n" +
	"| command | what it does |\n| --- | --- |\n" +
	"| `strata plan` | plan every stack this merge request touches again |\n" +
	"| `strata plan -s DIR` | plan only the stack in DIR, every workspace of it (repeat `-s` for more) |\n" +
	"| `strata plan -s DIR@WORKSPACE` | plan only that workspace's instance of the stack |\n" +
	"| `strata plan -s DIR -- -target=ADDR` | a partial plan of the resources named (repeat `-target`); applied only with `strata apply -s DIR` |\n" +
	"| `strata apply` | apply the reviewed plans, once every requirement holds |\n" +
	"| `strata apply -s DIR` | apply only the plan of the stack in DIR (DIR@WORKSPACE: one instance) |\n" +
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
	for i, s := range c.Stacks {
		c.Stacks[i] = stacks.CleanName(s)
	}
	args, rest := fs.Args(), []string(nil)
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		args, rest = args[:dash], args[dash:]
	}
	if len(args) > 0 {
		return command{}, true, fmt.Errorf("strata %s: unexpected %q (name stacks with -s DIR)", c.Name, strings.Join(args, " "))
	}
	if len(rest) > 0 {
		if c.Name != cmdPlan {
			return command{}, true, fmt.Errorf("strata %s: nothing may follow `--`: only `strata plan -s DIR -- -target=ADDR` takes terraform arguments", c.Name)
		}
		if c.Targets, err = parseTargets(rest); err != nil {
			return command{}, true, err
		}
		if len(c.Stacks) == 0 {
			return command{}, true, errors.New("strata plan: -target plans part of a stack; name the stack with -s DIR")
		}
	}
	return c, true, nil
}

// parseTargets reads what follows "--" in `strata plan`: -target=ADDR or
// -target ADDR, any number of times, and nothing else.
func parseTargets(args []string) ([]string, error) {
	var targets []string
	for i := 0; i < len(args); i++ {
		name, value, ok := strings.Cut("-"+strings.TrimLeft(args[i], "-"), "=")
		if name != "-target" {
			return nil, fmt.Errorf("strata plan: only -target may follow `--`, not %q", args[i])
		}
		if !ok {
			if i+1 == len(args) {
				return nil, errors.New("strata plan: -target needs a resource address, e.g. -target=terraform_data.x")
			}
			i++
			value = args[i]
		}
		if v := strings.Trim(value, `'`); v != "" {
			targets = append(targets, v)
			continue
		}
		return nil, errors.New("strata plan: -target needs a resource address, e.g. -target=terraform_data.x")
	}
	return targets, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
