package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-iac/strata/internal/awsconfig"
)

// tableWait bounds how long EnsureTable waits for a table to become active.
const tableWait = 5 * time.Minute

// Table describes the lock table as EnsureTable left it.
type Table struct {
	Name    string
	Region  string
	Created bool
	// TTLAttribute is the attribute DynamoDB's TTL deletes items by; ""
	// when TTL is off. strata's leases need expires_at.
	TTLAttribute string
}

// EnsureTable creates the lock table when it is missing: on-demand
// capacity, partition key LockID (S), TTL on expires_at. A table that
// exists is left as it is (it may be Terraform's lock table too) once its
// key schema is checked. Either way it waits until the table is active. An
// empty region means the SDK's default.
func EnsureTable(ctx context.Context, name, region string) (Table, error) {
	if err := checkTableName(name); err != nil {
		return Table{}, err
	}
	cfg, err := awsconfig.Load(ctx, region)
	if err != nil {
		return Table{}, err
	}
	client := newClient(cfg)
	t := Table{Name: name, Region: cfg.Region}
	fail := func(op string, err error) (Table, error) {
		return Table{}, fmt.Errorf("dynamodb table %s: %s: %w", name, op, err)
	}
	desc, err := client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &name})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		if err := checkSchema(desc.Table); err != nil {
			return Table{}, err
		}
	case errors.As(err, &nf):
		_, err := client.CreateTable(ctx, &ddb.CreateTableInput{
			TableName:            &name,
			BillingMode:          types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrID), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fail("create", err)
		}
		t.Created = err == nil
	default:
		return fail("describe", err)
	}
	waiter := ddb.NewTableExistsWaiter(client, func(o *ddb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := waiter.Wait(ctx, &ddb.DescribeTableInput{TableName: &name}, tableWait); err != nil {
		return fail("wait until active", err)
	}
	if t.Created {
		_, err := client.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{
			TableName: &name,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{
				AttributeName: aws.String(attrExpires), Enabled: aws.Bool(true),
			},
		})
		if err != nil {
			return fail("enable TTL", err)
		}
	}
	ttl, err := client.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		return fail("describe TTL", err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.AttributeName != nil &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		t.TTLAttribute = *d.AttributeName
	}
	return t, nil
}

// checkSchema accepts a table whose key is exactly LockID (S).
func checkSchema(desc *types.TableDescription) error {
	name := aws.ToString(desc.TableName)
	bad := fmt.Errorf("dynamodb table %s does not have the key strata needs: partition key %s (S) and no sort key", name, attrID)
	if len(desc.KeySchema) != 1 || aws.ToString(desc.KeySchema[0].AttributeName) != attrID || desc.KeySchema[0].KeyType != types.KeyTypeHash {
		return bad
	}
	for _, a := range desc.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == attrID && a.AttributeType != types.ScalarAttributeTypeS {
			return bad
		}
	}
	return nil
}

func newClient(cfg aws.Config) *ddb.Client {
	return ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.Retryer = awsconfig.BoundRetries(o.Retryer) })
}
