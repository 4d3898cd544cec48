package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/lock/dynamodb"
	"github.com/strata-iac/strata/runner/lock/locktest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

var tables atomic.Int64

// newTable creates a fresh lock table on the shared moto server.
func newTable(t testing.TB) string {
	t.Helper()
	motoserver.Shared(t)
	name := fmt.Sprintf("strata-locks-%d", tables.Add(1))
	if _, err := dynamodb.EnsureTable(t.Context(), name, ""); err != nil {
		t.Fatal(err)
	}
	return name
}

func openTable(t testing.TB, table string, opts lock.Options) lock.Locker {
	t.Helper()
	l, err := lock.Open(t.Context(), "dynamodb://"+table, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestConformance(t *testing.T) {
	locktest.Run(t, func(t *testing.T) func(lock.Options) lock.Locker {
		table := newTable(t)
		return func(opts lock.Options) lock.Locker { return openTable(t, table, opts) }
	})
}

// rawClient talks to the table behind the Locker's back.
func rawClient(t *testing.T) *ddb.Client {
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ddb.NewFromConfig(cfg)
}

func TestEnsureTableIsIdempotent(t *testing.T) {
	motoserver.Shared(t)
	name := fmt.Sprintf("strata-ensure-%d", tables.Add(1))
	first, err := dynamodb.EnsureTable(t.Context(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.TTLAttribute != "expires_at" || first.Region != motoserver.Region {
		t.Errorf("first EnsureTable = %+v, want created with TTL on expires_at in %s", first, motoserver.Region)
	}
	second, err := dynamodb.EnsureTable(t.Context(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.TTLAttribute != "expires_at" {
		t.Errorf("second EnsureTable = %+v, want found, unchanged", second)
	}
	desc, err := rawClient(t).DescribeTable(t.Context(), &ddb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if bm := desc.Table.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want on-demand", bm)
	}
}

func TestEnsureTableRefusesWrongSchema(t *testing.T) {
	motoserver.Shared(t)
	name := fmt.Sprintf("strata-wrong-%d", tables.Add(1))
	_, err := rawClient(t).CreateTable(t.Context(), &ddb.CreateTableInput{
		TableName:            &name,
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamodb.EnsureTable(t.Context(), name, ""); err == nil || !strings.Contains(err.Error(), "LockID") {
		t.Errorf("EnsureTable on a table keyed by id = %v, want an error naming LockID", err)
	}
	if _, err := lock.Open(t.Context(), "dynamodb://"+name, lock.Options{}); err == nil || !strings.Contains(err.Error(), "LockID") {
		t.Errorf("Open on a table keyed by id = %v, want an error naming LockID", err)
	}
}

func TestOpenMissingTable(t *testing.T) {
	motoserver.Shared(t)
	_, err := lock.Open(t.Context(), "dynamodb://no-such-table", lock.Options{})
	if err == nil || !strings.Contains(err.Error(), "no-such-table not found") || !strings.Contains(err.Error(), "strata setup aws") {
		t.Errorf("Open on a missing table = %v, want advice to run strata setup aws", err)
	}
	if _, err := lock.Open(t.Context(), "dynamodb://x", lock.Options{}); err == nil || !strings.Contains(err.Error(), "bad DynamoDB table name") {
		t.Errorf("Open with a bad table name = %v", err)
	}
}

// TestSharedWithTerraform: Terraform's S3-backend lock items live in the
// same table without being listed, released or blocking strata's keys.
func TestSharedWithTerraform(t *testing.T) {
	table := newTable(t)
	raw := rawClient(t)
	tfIDs := []string{"acme-tfstate/live/prod/terraform.tfstate", "acme-tfstate/live/prod/terraform.tfstate-md5"}
	for _, id := range tfIDs {
		_, err := raw.PutItem(t.Context(), &ddb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"LockID": &types.AttributeValueMemberS{Value: id},
			"Digest": &types.AttributeValueMemberS{Value: "d41d8cd98f00b204e9800998ecf8427e"},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	l := openTable(t, table, lock.Options{})
	if _, err := l.Acquire(t.Context(), tfIDs[0], lock.Owner{ID: "mr!1"}); err != nil {
		t.Fatalf("Acquire of a key equal to a Terraform LockID: %v", err)
	}
	locks, err := l.List(t.Context())
	if err != nil || len(locks) != 1 || locks[0].Key != tfIDs[0] {
		t.Fatalf("List = %+v, %v; want only strata's lock", locks, err)
	}
	if err := l.ForceRelease(t.Context(), tfIDs[1]); err != nil {
		t.Fatal(err)
	}
	for _, id := range tfIDs {
		out, err := raw.GetItem(t.Context(), &ddb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
			"LockID": &types.AttributeValueMemberS{Value: id},
		}})
		if err != nil || out.Item == nil {
			t.Errorf("Terraform item %s is gone (%v)", id, err)
		}
	}
}

// TestServerStopped: with the endpoint gone, Acquire fails with the lock
// error (not the caller's deadline) and the Locker works again once the
// endpoint is back.
func TestServerStopped(t *testing.T) {
	srv := motoserver.Start(t)
	if _, err := dynamodb.EnsureTable(t.Context(), "stopped", ""); err != nil {
		t.Fatal(err)
	}
	l := openTable(t, "stopped", lock.Options{})
	if _, err := l.Acquire(t.Context(), "k", lock.Owner{ID: "alice"}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err := l.Acquire(ctx, "k2", lock.Owner{ID: "alice"})
	if err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("Acquire with the endpoint stopped = %v, want the lock's own error well before the deadline", err)
	}
	if !strings.Contains(err.Error(), "dynamodb table stopped: acquire k2") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not name the table, the key and the cause", err)
	}
	srv.Restart(t)
	if _, err := dynamodb.EnsureTable(t.Context(), "stopped", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(t.Context(), "k2", lock.Owner{ID: "alice"}); err != nil {
		t.Fatalf("Acquire after the endpoint came back: %v", err)
	}
}

func BenchmarkDynamoDBAcquireRelease(b *testing.B) {
	table := newTable(b)
	locktest.Bench(b, openTable(b, table, lock.Options{Lease: time.Hour}))
}
