package queue

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// record is an item as stored in the items bucket.
type record struct {
	Item      Item      `json:"item"`
	Enqueued  time.Time `json:"enqueued"`
	Attempts  int       `json:"attempts,omitempty"`
	Leased    bool      `json:"leased,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
}

// bury moves item seq from the items bucket to the dead letters.
func (q *Bolt) bury(tx *bolt.Tx, seq uint64, r record, reason string) error {
	d := DeadItem{Item: r.Item, Attempts: r.Attempts, Enqueued: r.Enqueued, Died: q.opts.Now(), Reason: reason}
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketDead).Put(seqKey(seq), v); err != nil {
		return err
	}
	return tx.Bucket(bucketItems).Delete(seqKey(seq))
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func getRecord(items *bolt.Bucket, seq uint64) (record, error) {
	var r record
	v := items.Get(seqKey(seq))
	if v == nil {
		return r, fmt.Errorf("item %d is missing from the file", seq)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("item %d: %w", seq, err)
	}
	return r, nil
}

func putRecord(items *bolt.Bucket, seq uint64, r record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return items.Put(seqKey(seq), v)
}
