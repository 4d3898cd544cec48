package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/runner/lock"
)

// Attribute names of a lock item.
const (
	attrID       = "LockID"
	attrOwner    = "owner"
	attrHead     = "head"
	attrUser     = "user"
	attrAcquired = "acquired_at"
	attrExpires  = "expires_at"
)

// idPrefix starts the LockID of every strata item; see the package doc.
const idPrefix = "strata:"

// names maps the placeholders of every expression to attribute names;
// owner and user are DynamoDB reserved words.
var names = map[string]string{
	"#id": attrID, "#owner": attrOwner, "#head": attrHead, "#user": attrUser, "#exp": attrExpires,
}

func init() {
	lock.Register("dynamodb", "dynamodb://TABLE (DynamoDB)",
		func(ctx context.Context, table string, opts lock.Options) (lock.Locker, error) {
			return New(ctx, table, opts)
		})
}

// Locker is a lock.Locker on one DynamoDB table.
type Locker struct {
	client *ddb.Client
	table  string
	opts   lock.Options
}

var _ lock.Locker = (*Locker)(nil)

// New opens the locks in table, which must exist with the key schema the
// package doc describes (EnsureTable creates it).
func New(ctx context.Context, table string, opts lock.Options) (*Locker, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		return nil, err
	}
	d := &Locker{client: newClient(cfg), table: table, opts: opts}
	out, err := d.client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, d.fail("open", "", err)
	}
	if err := checkSchema(out.Table); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Locker) Acquire(ctx context.Context, key string, owner lock.Owner) (lock.Lock, error) {
	if err := lock.CheckOwner(key, owner.ID); err != nil {
		return lock.Lock{}, err
	}
	// Two rounds at most: the item can vanish between the two writes (a
	// release or force-release), and then it is free again.
	for range 2 {
		now := time.Now()
		l := lock.Lock{
			Key: key, Owner: owner.ID, Head: owner.Head, User: owner.User,
			AcquiredAt: now.UTC(), ExpiresAt: d.opts.ExpiresAt(now),
		}
		_, err := d.client.PutItem(ctx, &ddb.PutItemInput{
			TableName:                           &d.table,
			Item:                                encode(l),
			ConditionExpression:                 aws.String("attribute_not_exists(#id) OR #exp <= :now"),
			ExpressionAttributeNames:            pick("#id", "#exp"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":now": epoch(now)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return l, nil
		}
		cur, failed, err := d.conditionFailed(ctx, "acquire", key, err)
		if !failed {
			return lock.Lock{}, err
		}
		if cur != nil && cur.Owner != owner.ID {
			return lock.Lock{}, &lock.HeldError{Lock: *cur}
		}
		if cur != nil {
			got, gone, err := d.refresh(ctx, l)
			if !gone {
				return got, err
			}
		}
	}
	return lock.Lock{}, fmt.Errorf("dynamodb table %s: acquire %s: the lock kept changing hands, try again", d.table, key)
}

// refresh updates head, user and the lease of a lock that l.Owner holds,
// keeping acquired_at. gone is true when the item is no longer there.
func (d *Locker) refresh(ctx context.Context, l lock.Lock) (got lock.Lock, gone bool, err error) {
	update := "SET #head = :head, #user = :user"
	values := map[string]types.AttributeValue{
		":me":   str(l.Owner),
		":head": str(l.Head),
		":user": str(l.User),
	}
	if l.ExpiresAt.IsZero() {
		update += " REMOVE #exp"
	} else {
		update += ", #exp = :exp"
		values[":exp"] = epoch(l.ExpiresAt)
	}
	out, err := d.client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                           &d.table,
		Key:                                 itemKey(l.Key),
		UpdateExpression:                    &update,
		ConditionExpression:                 aws.String("#owner = :me"),
		ExpressionAttributeNames:            pick("#owner", "#head", "#user", "#exp"),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		got, err := d.decode(out.Attributes)
		return got, false, err
	}
	cur, failed, err := d.conditionFailed(ctx, "acquire", l.Key, err)
	switch {
	case !failed:
		return lock.Lock{}, false, err
	case cur == nil:
		return lock.Lock{}, true, nil
	default:
		return lock.Lock{}, false, &lock.HeldError{Lock: *cur}
	}
}

func (d *Locker) Release(ctx context.Context, key, ownerID string) error {
	if err := lock.CheckOwner(key, ownerID); err != nil {
		return err
	}
	_, err := d.client.DeleteItem(ctx, &ddb.DeleteItemInput{
		TableName:                           &d.table,
		Key:                                 itemKey(key),
		ConditionExpression:                 aws.String("#owner = :me AND (attribute_not_exists(#exp) OR #exp > :now)"),
		ExpressionAttributeNames:            pick("#owner", "#exp"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":me": str(ownerID), ":now": epoch(time.Now())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	cur, failed, err := d.conditionFailed(ctx, "release", key, err)
	if !failed {
		return err
	}
	return &lock.NotHolderError{Key: key, Owner: ownerID, Holder: cur}
}

func (d *Locker) ForceRelease(ctx context.Context, key string) error {
	if err := lock.CheckKey(key); err != nil {
		return err
	}
	_, err := d.client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &d.table, Key: itemKey(key)})
	if err != nil {
		return d.fail("force-release", key, err)
	}
	return nil
}

func (d *Locker) Get(ctx context.Context, key string) (lock.Lock, bool, error) {
	if err := lock.CheckKey(key); err != nil {
		return lock.Lock{}, false, err
	}
	cur, err := d.get(ctx, key)
	if err != nil {
		return lock.Lock{}, false, d.fail("get", key, err)
	}
	if cur == nil {
		return lock.Lock{}, false, nil
	}
	return *cur, true, nil
}

// get reads key consistently; nil means free.
func (d *Locker) get(ctx context.Context, key string) (*lock.Lock, error) {
	out, err := d.client.GetItem(ctx, &ddb.GetItemInput{
		TableName: &d.table, Key: itemKey(key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return d.held(out.Item)
}

func (d *Locker) List(ctx context.Context) ([]lock.Lock, error) {
	locks := []lock.Lock{}
	pages := ddb.NewScanPaginator(d.client, &ddb.ScanInput{
		TableName:                 &d.table,
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("begins_with(#id, :prefix) AND (attribute_not_exists(#exp) OR #exp > :now)"),
		ExpressionAttributeNames:  pick("#id", "#exp"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prefix": str(idPrefix), ":now": epoch(time.Now())},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, d.fail("list", "", err)
		}
		for _, item := range page.Items {
			l, err := d.decode(item)
			if err != nil {
				return nil, err
			}
			locks = append(locks, l)
		}
	}
	slices.SortFunc(locks, func(a, b lock.Lock) int { return strings.Compare(a.Key, b.Key) })
	return locks, nil
}

// Close frees nothing: the client holds only idle connections.
func (d *Locker) Close() error { return nil }

// conditionFailed tells a failed condition (failed true, with the item as
// it stands, nil when absent or expired) from any other error (failed
// false, err describing it).
func (d *Locker) conditionFailed(ctx context.Context, op, key string, err error) (cur *lock.Lock, failed bool, _ error) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, false, d.fail(op, key, err)
	}
	if ccf.Item == nil {
		// DynamoDB returns the item with the failure; read it should an
		// endpoint not do so.
		cur, err = d.get(ctx, key)
		if err != nil {
			return nil, false, d.fail(op, key, err)
		}
		return cur, true, nil
	}
	cur, err = d.held(ccf.Item)
	if err != nil {
		return nil, false, err
	}
	return cur, true, nil
}

// fail wraps err with the table, the operation and the key, and turns a
// missing table into advice.
func (d *Locker) fail(op, key string, err error) error { return tableError(d.table, op, key, err) }

func tableError(table, op, key string, err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("dynamodb table %s not found (create it with: strata setup aws --table %s --bucket BUCKET)", table, table)
	}
	if key != "" {
		op += " " + key
	}
	return fmt.Errorf("dynamodb table %s: %s: %w", table, op, err)
}

// held decodes item, returning nil when it is absent or expired.
func (d *Locker) held(item map[string]types.AttributeValue) (*lock.Lock, error) {
	if item == nil {
		return nil, nil
	}
	l, err := d.decode(item)
	if err != nil || l.Expired(time.Now()) {
		return nil, err
	}
	return &l, nil
}

func (d *Locker) decode(item map[string]types.AttributeValue) (lock.Lock, error) {
	id := strAttr(item, attrID)
	l := lock.Lock{
		Key:   strings.TrimPrefix(id, idPrefix),
		Owner: strAttr(item, attrOwner),
		Head:  strAttr(item, attrHead),
		User:  strAttr(item, attrUser),
	}
	bad := func(what string, err error) (lock.Lock, error) {
		return lock.Lock{}, fmt.Errorf("dynamodb table %s: item %q has a bad %s: %w", d.table, id, what, err)
	}
	if !strings.HasPrefix(id, idPrefix) || l.Owner == "" {
		return bad("layout", errors.New("not a strata lock item"))
	}
	t, err := time.Parse(time.RFC3339Nano, strAttr(item, attrAcquired))
	if err != nil {
		return bad(attrAcquired, err)
	}
	l.AcquiredAt = t.UTC()
	if n, ok := item[attrExpires].(*types.AttributeValueMemberN); ok {
		secs, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return bad(attrExpires, err)
		}
		l.ExpiresAt = time.Unix(secs, 0).UTC()
	}
	return l, nil
}

func encode(l lock.Lock) map[string]types.AttributeValue {
	item := itemKey(l.Key)
	item[attrOwner] = str(l.Owner)
	item[attrHead] = str(l.Head)
	item[attrUser] = str(l.User)
	item[attrAcquired] = str(l.AcquiredAt.Format(time.RFC3339Nano))
	if !l.ExpiresAt.IsZero() {
		item[attrExpires] = epoch(l.ExpiresAt)
	}
	return item
}

func itemKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrID: str(idPrefix + key)}
}

func pick(placeholders ...string) map[string]string {
	m := make(map[string]string, len(placeholders))
	for _, p := range placeholders {
		m[p] = names[p]
	}
	return m
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func strAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

var tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func checkTableName(table string) error {
	if !tableName.MatchString(table) {
		return fmt.Errorf("bad DynamoDB table name %q: use 3 to 255 letters, digits, '_', '-' or '.' (dynamodb://TABLE)", table)
	}
	return nil
}
