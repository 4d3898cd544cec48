package test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/internal/motoserver"
)

// TestGitHubPullRequestLoop drives strata server through a pull request's
// life on GitHub (the fake), with locks in DynamoDB, plans and state in S3
// (moto) and the real terraform: open (delivered twice, handled once),
// push, a second pull request on the same stack, apply refused before
// approval, a review's approval, close, and a delivery with a bad
// signature.
func TestGitHubPullRequestLoop(t *testing.T) {
	motoserver.Shared(t)
	needTerraform(t)
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	bucket, table := "gh-loop-state", "gh-loop-locks"
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	rem := newRemote(t, map[string]string{"strata.yaml": strings.Replace(s3Backend(bucket, table), "version: 1\n", "version: 1\napply_on: approval\n", 1)})
	const repo = "acme/infra"
	gh.AddRepo(fakegithub.Repo{FullName: repo, CloneURL: rem.url()})
	locksURL := "dynamodb://" + table
	srv := startGitHubServer(t, gh, t.TempDir(), "--locks", locksURL, "--store", "s3://"+bucket+"/strata")
	bot := gh.Bot

	// Open, delivered twice with one delivery ID: one plan, one comment
	// with the plan, and a status linking to it.
	sha1 := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": flowLogs})
	gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 1, HeadRef: "flow-logs", HeadSHA: sha1})
	open := gh.PullRequestHook(repo, 1, "opened", "alice")
	const delivery = "d6f0e0c2-1c6e-11f0-8c9a-0a1b2c3d4e5f"
	if code := srv.deliverAs(webhookSecret, open, delivery); code != http.StatusAccepted {
		t.Fatalf("opened: HTTP %d, want 202", code)
	}
	if code := srv.deliverAs(webhookSecret, open, delivery); code != http.StatusOK {
		t.Fatalf("the same delivery again: HTTP %d, want 200", code)
	}
	srv.eventually("the plan of #1", func() bool {
		return ghStatusIs(gh, repo, sha1, "strata/plan", "success") && commentContains(gh, repo, 1, bot, "`live/prod/network`", "terraform_data.flow_logs")
	})
	first, _ := mainComment(gh, repo, 1, bot)
	if n := len(botComments(gh, repo, 1, bot)); n != 1 {
		t.Fatalf("%d comments after the first plan, want 1", n)
	}
	pending := 0
	for _, st := range gh.Statuses(repo, sha1) {
		if st.Context == "strata/plan" && st.State == "pending" {
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("the plan ran %d times for one event delivered twice", pending)
	}
	if st, _ := gh.LatestStatus(repo, sha1, "strata/plan"); !strings.HasSuffix(st.TargetURL, "#issuecomment-"+strconv.FormatInt(first.ID, 10)) {
		t.Errorf("the plan status links to %q, not to the comment", st.TargetURL)
	}
	if got := srv.metric(`strata_events_total{action="opened",forge="github",result="duplicate"}`); got != "1" {
		t.Errorf("duplicate deliveries counted %q, want 1", got)
	}

	// Push (synchronize): the same comment, edited in place.
	sha2 := rem.branch("flow-logs", map[string]string{"live/prod/network/flow_logs.tf": strings.Replace(flowLogs, `"on"`, `"all"`, 1)})
	gh.UpdatePullRequest(repo, 1, func(pr *fakegithub.PullRequest) { pr.HeadSHA = sha2 })
	push := gh.PullRequestHook(repo, 1, "synchronize", "alice")
	push.Before = sha1
	srv.deliver(push)
	srv.eventually("the plan of the new commit", func() bool {
		return ghStatusIs(gh, repo, sha2, "strata/plan", "success") && commentContains(gh, repo, 1, bot, sha2[:8])
	})
	if cs := botComments(gh, repo, 1, bot); len(cs) != 1 || cs[0].ID != first.ID {
		t.Fatalf("after a push: %d comments, want the first one (id %d) edited in place", len(cs), first.ID)
	}

	// A second pull request on the same stack is told who holds it.
	sha3 := rem.branch("dns", map[string]string{"live/prod/network/dns.tf": `resource "terraform_data" "dns" {}`})
	gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 2, HeadRef: "dns", HeadSHA: sha3, Author: "carol"})
	srv.deliver(gh.PullRequestHook(repo, 2, "opened", "carol"))
	srv.eventually("#2 told that #1 holds the stack", func() bool { return commentContains(gh, repo, 2, bot, "locked by #1") })

	// strata apply before approval: refused, with the reason.
	srv.deliver(gh.Comment(repo, 1, "bob", "strata apply"))
	srv.eventually("the apply refused for want of approval", func() bool {
		return ghStatusIs(gh, repo, sha2, "strata/apply", "failure") && commentContains(gh, repo, 1, bot, "Apply refused", "**approved**")
	})
	if s3Object(t, bucket, "live/prod/network/terraform.tfstate") != "" {
		t.Fatal("state written by a refused apply")
	}

	// A review's approval applies the reviewed plan: state in S3.
	if code := srv.deliver(gh.Review(repo, 1, "bob", "APPROVED")); code != http.StatusAccepted {
		t.Fatalf("approval: HTTP %d, want 202", code)
	}
	srv.eventually("the apply on approval", func() bool { return ghStatusIs(gh, repo, sha2, "strata/apply", "success") })
	if state := s3Object(t, bucket, "live/prod/network/terraform.tfstate"); !strings.Contains(state, "flow_logs") {
		t.Fatalf("no applied state in S3:\n%s", state)
	}
	if !commentContains(gh, repo, 1, bot, "applied") {
		c, _ := mainComment(gh, repo, 1, bot)
		t.Fatalf("the comment does not report the apply:\n%s", c.Body)
	}

	// Close: the locks go, and #2 can plan its stack.
	if keys := locksOf(t, locksURL, "github/acme/infra!1"); len(keys) == 0 {
		t.Fatal("#1 holds no lock before it is closed")
	}
	gh.UpdatePullRequest(repo, 1, func(pr *fakegithub.PullRequest) { pr.State = "closed" })
	srv.deliver(gh.PullRequestHook(repo, 1, "closed", "alice"))
	srv.eventually("#1's locks released", func() bool { return len(locksOf(t, locksURL, "github/acme/infra!1")) == 0 })
	srv.deliver(gh.Comment(repo, 2, "carol", "strata plan"))
	srv.eventually("#2 planned once the lock is free", func() bool {
		return ghStatusIs(gh, repo, sha3, "strata/plan", "success") && commentContains(gh, repo, 2, bot, "terraform_data.dns")
	})

	// A bad signature: 401 and nothing queued.
	before := srv.metric(`strata_events_total{action="opened",forge="github",result="accepted"}`)
	if code := srv.deliverAs("not-the-secret", gh.PullRequestHook(repo, 2, "opened", "mallory"), ""); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: HTTP %d, want 401", code)
	}
	if got := srv.metric(`strata_events_total{action="",forge="github",result="unauthorized"}`); got != "1" {
		t.Errorf("unauthorized deliveries counted %q, want 1", got)
	}
	if after := srv.metric(`strata_events_total{action="opened",forge="github",result="accepted"}`); after != before {
		t.Errorf("accepted events went from %s to %s after a bad signature", before, after)
	}
}

// TestGitHubRefusesForks: a pull request from a fork is not planned, not
// when it opens and not on a `strata plan` comment (whose payload does
// not say it is a fork), and the comment says why.
func TestGitHubRefusesForks(t *testing.T) {
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	rem := newRemote(t, nil)
	const repo = "acme/open"
	gh.AddRepo(fakegithub.Repo{FullName: repo, CloneURL: rem.url()})
	srv := startGitHubServer(t, gh, t.TempDir())

	sha := rem.branch("evil", map[string]string{"live/prod/app/evil.tf": `resource "terraform_data" "evil" {}`})
	gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 6, HeadRef: "evil", HeadSHA: sha, HeadRepo: "mallory/open", Author: "mallory"})
	srv.deliver(gh.PullRequestHook(repo, 6, "opened", "mallory"))
	srv.eventually("the fork refused", func() bool {
		return ghStatusIs(gh, repo, sha, "strata/plan", "failure") && commentContains(gh, repo, 6, gh.Bot, "does not plan merge requests from forks")
	})
	srv.deliver(gh.Comment(repo, 6, "mallory", "strata plan"))
	srv.eventually("the comment handled", func() bool {
		return len(gh.Statuses(repo, sha)) == 2
	})
	if strings.Contains(srv.log(), `"msg":"run started"`) {
		t.Error("a run started for a fork")
	}
}

// TestGitHubLargePlan: a 3,000-resource plan beside three small ones fits
// GitHub's 65,536 characters in every comment, and the first comment's
// table names every stack.
func TestGitHubLargePlan(t *testing.T) {
	needTerraform(t)
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	rem := newRemote(t, nil)
	const repo = "acme/big"
	gh.AddRepo(fakegithub.Repo{FullName: repo, CloneURL: rem.url()})
	srv := startGitHubServer(t, gh, t.TempDir(), "--stack-timeout", "10m")

	stacks := []string{"live/prod/network", "live/staging/network", "live/prod/app", "live/staging/app"}
	files := map[string]string{"live/prod/network/many.tf": `resource "terraform_data" "r" {
  count = 3000
  input = "a value long enough to make every resource of this plan take a few lines: ${count.index}"
}`}
	for _, dir := range stacks[1:] {
		files[dir+"/extra.tf"] = `resource "terraform_data" "extra" { input = "small" }`
	}
	sha := rem.branch("big", files)
	gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 1, HeadRef: "big", HeadSHA: sha})
	srv.deliver(gh.PullRequestHook(repo, 1, "opened", "alice"))
	srv.eventually("the plan", func() bool { return ghStatusIs(gh, repo, sha, "strata/plan", "success") })

	comments := botComments(gh, repo, 1, gh.Bot)
	if len(comments) == 0 {
		t.Fatal("no comment")
	}
	for i, c := range comments {
		if n := len([]rune(c.Body)); n > 65_536 {
			t.Errorf("comment %d is %d characters, GitHub takes 65,536", i+1, n)
		}
	}
	first, _ := mainComment(gh, repo, 1, gh.Bot)
	for _, dir := range stacks {
		if !strings.Contains(first.Body, "| `"+dir+"` |") {
			t.Errorf("%s is not in the first comment's table", dir)
		}
	}
	if !regexp.MustCompile("\\| `live/prod/network` \\| 📝 changes \\| \\+3,00[0-9]").MatchString(first.Body) {
		t.Errorf("the table does not count the 3,000 resources to add:\n%.2000s", first.Body)
	}
}

// TestGitHubAppMode: as a GitHub App, strata authenticates with a JWT the
// fake verifies against the App's public key, works through the
// installation's token, comments as the App's bot, and reports check runs
// with the summary table and a link to the comment.
func TestGitHubAppMode(t *testing.T) {
	needTerraform(t)
	gh := fakegithub.New()
	t.Cleanup(gh.Close)
	rem := newRemote(t, nil)
	const repo = "acme/app"
	gh.AddRepo(fakegithub.Repo{FullName: repo, CloneURL: rem.url(), Installation: 42})
	app := gh.EnableApp(777, "strata-app")
	key := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(key, app.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startGitHubServerWith(t, gh, t.TempDir(), nil, "--github-app-id", "777", "--github-app-key-file", key)

	sha := rem.branch("cdn", map[string]string{"live/prod/app/cdn.tf": `resource "terraform_data" "cdn" {}`})
	gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 3, HeadRef: "cdn", HeadSHA: sha})
	if code := srv.deliver(gh.PullRequestHook(repo, 3, "opened", "alice")); code != http.StatusAccepted {
		t.Fatalf("HTTP %d, want 202", code)
	}
	planned := func() bool {
		for _, run := range gh.CheckRuns(repo, sha) {
			if run.Name == "strata/plan" && run.Status == "completed" {
				return true
			}
		}
		return false
	}
	srv.eventually("the plan's check run", planned)
	run := gh.CheckRuns(repo, sha)[0]
	comment, ok := mainComment(gh, repo, 3, app.BotLogin())
	if !ok || !strings.Contains(comment.Body, "terraform_data.cdn") {
		t.Fatalf("no plan comment by %s: %+v", app.BotLogin(), gh.Comments(repo, 3))
	}
	if run.Conclusion != "success" || !strings.Contains(run.Summary, "| `live/prod/app` |") || strings.Contains(run.Summary, "<details") ||
		!strings.HasSuffix(run.DetailsURL, "#issuecomment-"+strconv.FormatInt(comment.ID, 10)) {
		t.Errorf("check run: %+v", run)
	}
	if n := len(gh.CheckRuns(repo, sha)); n != 1 {
		t.Errorf("%d check runs, want strata/plan updated in place", n)
	}
	if len(gh.Statuses(repo, sha)) != 0 {
		t.Error("the App set commit statuses")
	}
	tokens := 0
	for _, c := range gh.Calls() {
		switch {
		case c.Route == "POST /app/installations/:id/access_tokens" && c.Status == http.StatusCreated:
			tokens++
		case c.Status >= 400:
			t.Errorf("%s %s answered %d", c.Method, c.Path, c.Status)
		case strings.HasPrefix(c.Route, "GET /app") || strings.HasSuffix(c.Route, "/installation"):
			if c.Auth != "jwt" {
				t.Errorf("%s %s as %q, want the App's JWT", c.Method, c.Path, c.Auth)
			}
		case c.Auth != "installation:42":
			t.Errorf("%s %s as %q, want the installation token", c.Method, c.Path, c.Auth)
		}
	}
	if tokens != 1 {
		t.Errorf("%d installation tokens issued, want 1 (cached for the hour it lasts)", tokens)
	}
}

// TestGitHubServerConfiguration: the server serves what it has
// credentials for and says what is missing or contradictory.
func TestGitHubServerConfiguration(t *testing.T) {
	help := runStrata(t, nil, "server", "--help")
	if help.code != 0 || !strings.Contains(help.stdout, "POST /events/github") || strings.Contains(help.stdout, "not built yet") ||
		strings.Contains(help.stdout, "not supported") {
		t.Errorf("strata server --help:\n%s", help.stdout)
	}
	key := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}
	secretEnv := "STRATA_GITHUB_WEBHOOK_SECRET=s"
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, nil, "no forge to serve"},
		{[]string{"STRATA_GITHUB_TOKEN=t", secretEnv}, []string{"--github-app-id", "7"}, "not both"},
		{[]string{secretEnv}, []string{"--github-app-id", "7"}, "needs its private key"},
		{[]string{secretEnv}, []string{"--github-app-id", "seven", "--github-app-key-file", key}, "numeric ID"},
		{[]string{secretEnv}, []string{"--github-app-key-file", key}, "needs --github-app-id"},
		{[]string{secretEnv}, []string{"--github-app-id", "7", "--github-app-key-file", key}, "private key"},
		{[]string{"STRATA_GITHUB_TOKEN=t"}, nil, "no GitHub webhook secret"},
	} {
		r := runStrata(t, tc.env, append(base, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("server %v with %v: exit %d, stderr %q; want 1 and %q", tc.args, tc.env, r.code, r.stderr, tc.want)
		}
	}
}
