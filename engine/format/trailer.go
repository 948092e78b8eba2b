package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// TrailerSize is the length of the sha256 that etcd appends to a snapshot and etcd-backup-restore to a delta.
const TrailerSize = sha256.Size

// ErrChecksum marks bytes whose trailing sha256 does not match their content.
var ErrChecksum = errors.New("sha256 mismatch")

// ErrNoTrailer marks a full snapshot without the sha256 etcd appends (a copied db file, or a truncated stream).
var ErrNoTrailer = errors.New("no sha256 trailer")

// TrailerHash is an io.Writer that hashes everything written to it except the last TrailerSize bytes, which it
// keeps as the expected sum. Tee a stream through it and call Verify at the end: constant memory, one pass.
type TrailerHash struct {
	h    hash.Hash
	tail [TrailerSize]byte
	n    int   // bytes held in tail
	seen int64 // bytes written in all
}

// NewTrailerHash returns an empty TrailerHash.
func NewTrailerHash() *TrailerHash { return &TrailerHash{h: sha256.New()} }

func (t *TrailerHash) Write(p []byte) (int, error) {
	total := len(p)
	t.seen += int64(total)
	if t.n+len(p) <= TrailerSize {
		copy(t.tail[t.n:], p)
		t.n += len(p)
		return total, nil
	}
	// Everything but the newest TrailerSize bytes of (tail + p) is content.
	overflow := t.n + len(p) - TrailerSize
	if overflow >= t.n {
		t.h.Write(t.tail[:t.n])
		t.h.Write(p[:overflow-t.n])
		copy(t.tail[:], p[overflow-t.n:])
	} else {
		t.h.Write(t.tail[:overflow])
		keep := t.n - overflow
		copy(t.tail[:keep], t.tail[overflow:t.n])
		copy(t.tail[keep:], p)
	}
	t.n = TrailerSize
	return total, nil
}

// Size is the number of bytes written so far, trailer included.
func (t *TrailerHash) Size() int64 { return t.seen }

// Sum is the sha256 of the content (all but the trailer), hex-encoded.
func (t *TrailerHash) Sum() string { return hex.EncodeToString(t.h.Sum(nil)) }

// Verify reports whether the last TrailerSize bytes are the sha256 of everything before them.
func (t *TrailerHash) Verify() error {
	if t.n < TrailerSize {
		return fmt.Errorf("%w: only %d bytes", ErrNoTrailer, t.seen)
	}
	sum := t.h.Sum(nil)
	if !bytes.Equal(sum, t.tail[:]) {
		return fmt.Errorf("%w: content hashes to %x, trailer says %x", ErrChecksum, sum[:8], t.tail[:8])
	}
	return nil
}

// HasSnapshotTrailer applies etcd's own rule for a full snapshot: a bbolt file is a whole number of 512-byte
// blocks, so a size that leaves exactly 32 bytes over carries the sha256.
func HasSnapshotTrailer(size int64) bool { return size%512 == TrailerSize }
