package test

import (
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/motoserver"
)

// TestSetupAWS: setup creates the table and bucket, says so, and a second
// run finds them and exits 0 too; the resources then work as --locks.
func TestSetupAWS(t *testing.T) {
	motoserver.Shared(t)
	args := []string{"setup", "aws", "--table", "setup-locks", "--bucket", "setup-artifacts", "--region", motoserver.Region}
	first := runStrata(t, nil, args...)
	if first.code != 0 {
		t.Fatalf("first setup: exit %d: %s", first.code, first.stderr)
	}
	for _, want := range []string{"created DynamoDB table setup-locks", "TTL on expires_at", "created S3 bucket setup-artifacts", "versioned"} {
		if !strings.Contains(first.stdout, want) {
			t.Errorf("first setup output lacks %q:\n%s", want, first.stdout)
		}
	}
	second := runStrata(t, nil, args...)
	if second.code != 0 {
		t.Fatalf("second setup: exit %d: %s", second.code, second.stderr)
	}
	for _, want := range []string{"found DynamoDB table setup-locks", "found S3 bucket setup-artifacts"} {
		if !strings.Contains(second.stdout, want) {
			t.Errorf("second setup output lacks %q:\n%s", want, second.stdout)
		}
	}
	if strings.Contains(second.stdout, "created") || strings.Contains(second.stdout, "note:") {
		t.Errorf("second setup changed something or warned:\n%s", second.stdout)
	}
	if r := runStrata(t, nil, "locks", "acquire", "k", "--owner", "o", "--locks", "dynamodb://setup-locks"); r.code != 0 {
		t.Errorf("acquire on the new table: exit %d: %s", r.code, r.stderr)
	}
}

func TestSetupAWSBadInput(t *testing.T) {
	motoserver.Shared(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"setup", "aws", "--table", "t-ok"}, `"bucket" not set`},
		{[]string{"setup", "aws", "--table", "x", "--bucket", "b-ok"}, "bad DynamoDB table name"},
		{[]string{"setup", "aws", "--table", "t-ok2", "--bucket", "Bad_Bucket"}, "bad S3 bucket name"},
	} {
		r := runStrata(t, nil, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("strata %q: exit %d, stderr %q; want exit 1 containing %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestLocksDynamoDBUnreachable: with nothing listening at the endpoint,
// a locks command fails in bounded time with an error naming the cause.
func TestLocksDynamoDBUnreachable(t *testing.T) {
	srv := motoserver.Start(t)
	srv.Stop()
	r := runStrata(t, nil, "locks", "list", "--locks", "dynamodb://any-table")
	if r.code != 1 || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("list with no endpoint: exit %d, stderr %q; want 1 and connection refused", r.code, r.stderr)
	}
}

// TestSetupAWSQueue: --queue creates the FIFO queue (".fifo" appended)
// and its dead-letter queue, says how to use them, and finds them the
// second time; the server then runs on them.
func TestSetupAWSQueue(t *testing.T) {
	motoserver.Shared(t)
	args := []string{"setup", "aws", "--table", "q-locks", "--bucket", "q-artifacts", "--queue", "q-events"}
	first := runStrata(t, nil, args...)
	if first.code != 0 {
		t.Fatalf("first setup: exit %d: %s", first.code, first.stderr)
	}
	for _, want := range []string{"created SQS FIFO queue q-events.fifo", "created SQS dead-letter queue q-events-dead-letters.fifo (a message goes there after 5 deliveries)",
		"--locks dynamodb://q-locks --store s3://q-artifacts/strata --queue sqs://q-events.fifo"} {
		if !strings.Contains(first.stdout, want) {
			t.Errorf("first setup output lacks %q:\n%s", want, first.stdout)
		}
	}
	second := runStrata(t, nil, append(args[:len(args)-1:len(args)-1], "q-events.fifo")...)
	if second.code != 0 || strings.Contains(second.stdout, "created") || !strings.Contains(second.stdout, "found, left unchanged: SQS FIFO queue q-events.fifo") {
		t.Errorf("second setup: exit %d\n%s%s", second.code, second.stdout, second.stderr)
	}
}

// TestServerSharedQueueNeedsSharedLocksAndStore: with --queue sqs://, locks
// or a store on this machine's disk are refused at start-up in one line.
func TestServerSharedQueueNeedsSharedLocksAndStore(t *testing.T) {
	env := []string{"STRATA_GITLAB_TOKEN=t", "STRATA_GITLAB_WEBHOOK_SECRET=s"}
	for _, extra := range [][]string{
		{},
		{"--locks", "dynamodb://q-locks"},
		{"--store", "s3://q-artifacts/strata"},
	} {
		args := append([]string{"server", "--data-dir", t.TempDir(), "--repo-allowlist", "gitlab/acme/**", "--queue", "sqs://q-events.fifo"}, extra...)
		r := runStrata(t, env, args...)
		if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
			!strings.Contains(r.stderr, "use --locks dynamodb://TABLE and --store s3://BUCKET/PREFIX") {
			t.Errorf("strata %q: exit %d, stderr %q; want exit 1 with one line asking for dynamodb:// and s3://", args, r.code, r.stderr)
		}
	}
}
