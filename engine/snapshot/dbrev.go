package snapshot

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DBRevision reads the revision an etcd db (or a snapshot of one, trailer and all) restores to: the highest
// revision in its "key" bucket, or its compaction revision when that is higher — etcd's own rule on start.
func DBRevision(path string) (int64, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("open db %s: %w", path, err)
	}
	defer db.Close()
	var rev int64
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("key")); b != nil {
			if k, _ := b.Cursor().Last(); len(k) >= 8 {
				rev = int64(binary.BigEndian.Uint64(k[:8]))
			}
		}
		if b := tx.Bucket([]byte("meta")); b != nil {
			for _, name := range []string{"finishedCompactRev", "scheduledCompactRev"} {
				if v := b.Get([]byte(name)); len(v) >= 8 {
					rev = max(rev, int64(binary.BigEndian.Uint64(v[:8])))
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read db %s: %w", path, err)
	}
	if rev == 0 {
		rev = 1 // a new etcd is at revision 1 with no keys
	}
	return rev, nil
}
