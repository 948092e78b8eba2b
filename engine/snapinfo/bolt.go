// Package snapinfo reads what an etcd snapshot holds — its revision, compaction, consistent index and storage
// version — without reading the snapshot: it walks bbolt's pages from an io.ReaderAt (meta pages, root bucket,
// the key bucket's rightmost leaf, the meta bucket), a handful of ranged reads on an object store.
package snapinfo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// Info is what the db says about itself.
type Info struct {
	// Revision is the db's current revision: the newest revision in the key bucket, or the scheduled compaction
	// when that is newer (as etcd's mvcc store computes it on start).
	Revision int64 `json:"revision"`
	// LastKeyRevision is the main revision of the key bucket's last key (0 for an empty bucket).
	LastKeyRevision int64 `json:"lastKeyRevision"`
	// CompactRevision is the scheduled compaction (finishedCompactRev when newer).
	CompactRevision int64  `json:"compactRevision"`
	ConsistentIndex uint64 `json:"consistentIndex"`
	// StorageVersion is the meta bucket's storageVersion ("" before etcd 3.6).
	StorageVersion string `json:"storageVersion,omitempty"`
	PageSize       int    `json:"pageSize"`
	// Reads and BytesRead count the ReadAt calls made and the bytes they returned.
	Reads     int   `json:"reads"`
	BytesRead int64 `json:"bytesRead"`
}

// ErrNotBolt marks bytes that are not an etcd bbolt database (or a damaged one).
var ErrNotBolt = errors.New("not an etcd bbolt database")

const (
	magic          = 0xED0CDAED
	pageHeaderSize = 16
	elemSize       = 16 // branch and leaf element headers alike
	bucketHdrSize  = 16
	branchFlag     = 0x01
	leafFlag       = 0x02
	bucketLeafFlag = 0x01
	maxPageBytes   = 64 << 20 // a page with its overflow; etcd's largest values are a few MiB
	maxDepth       = 32
	revBytesLen    = 17 // etcd's revision key: 8 bytes main, '_', 8 bytes sub (+ 't' for a tombstone)
)

// reader counts reads and bounds them to the db's size.
type reader struct {
	r    io.ReaderAt
	size int64
	info *Info
}

func (r *reader) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off+n > r.size || n > maxPageBytes {
		return nil, fmt.Errorf("%w: a page at offset %d (%d bytes) lies outside the %d-byte file", ErrNotBolt, off, n, r.size)
	}
	b := make([]byte, n)
	m, err := r.r.ReadAt(b, off)
	r.info.Reads++
	r.info.BytesRead += int64(m)
	if m == len(b) {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("read %d bytes at offset %d: %w", n, off, err)
}

// Read walks the bbolt db in r (size bytes; a trailing sha256 is ignored) to the facts Info holds.
func Read(r io.ReaderAt, size int64) (Info, error) {
	var info Info
	rd := &reader{r: r, size: size, info: &info}
	root, pageSize, err := rd.meta()
	if err != nil {
		return info, err
	}
	info.PageSize = pageSize
	p := &pager{rd: rd, pageSize: int64(pageSize)}
	rootPage, err := p.page(root)
	if err != nil {
		return info, err
	}
	keyBucket, err := p.get(rootPage, []byte("key"), true, 0)
	if err != nil {
		return info, fmt.Errorf("find the key bucket: %w", err)
	}
	if keyBucket == nil {
		return info, fmt.Errorf("%w: it has no \"key\" bucket", ErrNotBolt)
	}
	metaBucket, err := p.get(rootPage, []byte("meta"), true, 0)
	if err != nil {
		return info, fmt.Errorf("find the meta bucket: %w", err)
	}
	if metaBucket == nil {
		return info, fmt.Errorf("%w: it has no \"meta\" bucket", ErrNotBolt)
	}
	last, err := p.lastKey(keyBucket)
	if err != nil {
		return info, fmt.Errorf("read the key bucket's last key: %w", err)
	}
	if last != nil {
		if len(last) < revBytesLen || last[8] != '_' {
			return info, fmt.Errorf("%w: the key bucket's last key is %d bytes, not a revision", ErrNotBolt, len(last))
		}
		info.LastKeyRevision = int64(binary.BigEndian.Uint64(last))
	}
	mp, err := p.bucketPage(metaBucket)
	if err != nil {
		return info, fmt.Errorf("read the meta bucket: %w", err)
	}
	for _, k := range []string{"scheduledCompactRev", "finishedCompactRev"} {
		v, err := p.get(mp, []byte(k), false, 0)
		if err != nil {
			return info, fmt.Errorf("read meta %s: %w", k, err)
		}
		if len(v) >= 8 {
			info.CompactRevision = max(info.CompactRevision, int64(binary.BigEndian.Uint64(v)))
		}
	}
	if v, err := p.get(mp, []byte("consistent_index"), false, 0); err != nil {
		return info, fmt.Errorf("read meta consistent_index: %w", err)
	} else if len(v) == 8 {
		info.ConsistentIndex = binary.BigEndian.Uint64(v)
	}
	if v, err := p.get(mp, []byte("storageVersion"), false, 0); err != nil {
		return info, fmt.Errorf("read meta storageVersion: %w", err)
	} else {
		info.StorageVersion = string(v)
	}
	info.Revision = max(info.LastKeyRevision, info.CompactRevision)
	return info, nil
}

// meta reads both meta pages and returns the root bucket's page and the page size of the newer valid one.
func (rd *reader) meta() (root uint64, pageSize int, err error) {
	const metaLen = 64
	first, err := rd.read(0, min(4096, rd.size))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrNotBolt, err)
	}
	type meta struct {
		ok       bool
		pageSize uint32
		root     uint64
		txid     uint64
	}
	parse := func(b []byte) meta {
		if len(b) < pageHeaderSize+metaLen {
			return meta{}
		}
		m := b[pageHeaderSize : pageHeaderSize+metaLen]
		h := fnv.New64a()
		h.Write(m[:56])
		le := binary.LittleEndian
		if le.Uint32(m[0:]) != magic || le.Uint32(m[4:]) != 2 || h.Sum64() != le.Uint64(m[56:]) {
			return meta{}
		}
		return meta{ok: true, pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), txid: le.Uint64(m[48:])}
	}
	m0 := parse(first)
	ps := int64(m0.pageSize)
	if !m0.ok {
		ps = 4096 // the first meta is damaged: the second sits one (default-sized) page in
	}
	if ps < 512 || ps > 1<<20 {
		return 0, 0, fmt.Errorf("%w: page size %d", ErrNotBolt, ps)
	}
	var m1 meta
	if ps+pageHeaderSize+metaLen <= rd.size {
		second, err := rd.read(ps, pageHeaderSize+metaLen)
		if err != nil {
			return 0, 0, fmt.Errorf("%w: %v", ErrNotBolt, err)
		}
		m1 = parse(second)
	}
	best := m0
	if m1.ok && (!m0.ok || m1.txid > m0.txid) {
		best = m1
	}
	if !best.ok {
		return 0, 0, fmt.Errorf("%w: neither meta page is valid (bad magic, version or checksum)", ErrNotBolt)
	}
	return best.root, int(best.pageSize), nil
}

// pager reads pages by id.
type pager struct {
	rd       *reader
	pageSize int64
}

// page is one page's bytes (with its overflow pages).
type page []byte

func (p page) id() uint64     { return binary.LittleEndian.Uint64(p) }
func (p page) flags() uint16  { return binary.LittleEndian.Uint16(p[8:]) }
func (p page) count() int     { return int(binary.LittleEndian.Uint16(p[10:])) }
func (p page) elem(i int) int { return pageHeaderSize + i*elemSize }

func (p *pager) page(id uint64) (page, error) { return p.read(id, true) }

// read reads page id: whole (with its overflow pages), or only its first page (whose element headers tell
// where to read on).
func (p *pager) read(id uint64, whole bool) (page, error) {
	if id < 2 || id > uint64(p.rd.size/p.pageSize) {
		return nil, fmt.Errorf("%w: page id %d outside the file", ErrNotBolt, id)
	}
	off := int64(id) * p.pageSize
	b, err := p.rd.read(off, min(p.pageSize, p.rd.size-off))
	if err != nil {
		return nil, err
	}
	if len(b) < pageHeaderSize || binary.LittleEndian.Uint64(b) != id {
		return nil, fmt.Errorf("%w: page %d carries another id", ErrNotBolt, id)
	}
	if over := int64(binary.LittleEndian.Uint32(b[12:])); over > 0 && whole {
		b, err = p.rd.read(off, (over+1)*p.pageSize)
		if err != nil {
			return nil, err
		}
	}
	pg := page(b)
	if pg.elem(pg.count()) > len(pg) {
		if !whole {
			return p.read(id, true)
		}
		return nil, fmt.Errorf("%w: page %d claims %d elements", ErrNotBolt, id, pg.count())
	}
	return pg, nil
}

// bucketPage is the root page of a bucket whose value (bucket header, maybe an inline page) is v.
func (p *pager) bucketPage(v []byte) (page, error) {
	if len(v) < bucketHdrSize {
		return nil, fmt.Errorf("%w: bucket value of %d bytes", ErrNotBolt, len(v))
	}
	if root := binary.LittleEndian.Uint64(v); root != 0 {
		return p.page(root)
	}
	pg := page(v[bucketHdrSize:])
	if len(pg) < pageHeaderSize || pg.elem(pg.count()) > len(pg) {
		return nil, fmt.Errorf("%w: damaged inline bucket", ErrNotBolt)
	}
	return pg, nil
}

// slice bounds-checks a key or value inside a page.
func (pg page) slice(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+n > len(pg) {
		return nil, fmt.Errorf("%w: an element points outside its page", ErrNotBolt)
	}
	return pg[off : off+n], nil
}

// leafKV is leaf element i: its flags, key and value.
func (pg page) leafKV(i int) (flags uint32, k, v []byte, err error) {
	e := pg.elem(i)
	le := binary.LittleEndian
	flags, pos, ks, vs := le.Uint32(pg[e:]), int(le.Uint32(pg[e+4:])), int(le.Uint32(pg[e+8:])), int(le.Uint32(pg[e+12:]))
	if k, err = pg.slice(e+pos, ks); err != nil {
		return 0, nil, nil, err
	}
	v, err = pg.slice(e+pos+ks, vs)
	return flags, k, v, err
}

// branchKey is branch element i: its key and child page.
func (pg page) branchKey(i int) ([]byte, uint64, error) {
	e := pg.elem(i)
	le := binary.LittleEndian
	pos, ks, child := int(le.Uint32(pg[e:])), int(le.Uint32(pg[e+4:])), le.Uint64(pg[e+8:])
	k, err := pg.slice(e+pos, ks)
	return k, child, err
}

// get finds key in the tree under pg: a bucket's header when bucket, else a plain value (nil when absent).
func (p *pager) get(pg page, key []byte, bucket bool, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: the tree is deeper than %d", ErrNotBolt, maxDepth)
	}
	switch {
	case pg.flags()&branchFlag != 0:
		child := uint64(0)
		for i := 0; i < pg.count(); i++ {
			k, c, err := pg.branchKey(i)
			if err != nil {
				return nil, err
			}
			if i > 0 && bytes.Compare(k, key) > 0 {
				break
			}
			child = c
		}
		next, err := p.page(child)
		if err != nil {
			return nil, err
		}
		return p.get(next, key, bucket, depth+1)
	case pg.flags()&leafFlag != 0:
		for i := 0; i < pg.count(); i++ {
			flags, k, v, err := pg.leafKV(i)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(k, key) {
				if (flags&bucketLeafFlag != 0) != bucket {
					return nil, nil
				}
				return v, nil
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: page of unknown kind %#x", ErrNotBolt, pg.flags())
}

// lastKey follows a bucket's rightmost children to its last key (nil for an empty bucket).
func (p *pager) lastKey(bucketValue []byte) ([]byte, error) {
	pg, err := p.bucketPage(bucketValue)
	if err != nil {
		return nil, err
	}
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return nil, fmt.Errorf("%w: the tree is deeper than %d", ErrNotBolt, maxDepth)
		}
		n := pg.count()
		switch {
		case n == 0:
			return nil, nil
		case pg.flags()&branchFlag != 0:
			_, child, err := pg.branchKey(n - 1)
			if err != nil {
				return nil, err
			}
			// Only the first page: the last key of a leaf whose values overflow is read on its own.
			if pg, err = p.read(child, false); err != nil {
				return nil, err
			}
			if pg.flags()&branchFlag != 0 && len(pg) == int(p.pageSize) && binary.LittleEndian.Uint32(pg[12:]) > 0 {
				if pg, err = p.page(child); err != nil {
					return nil, err
				}
			}
		case pg.flags()&leafFlag != 0:
			e := pg.elem(n - 1)
			le := binary.LittleEndian
			pos, ks := int(le.Uint32(pg[e+4:])), int(le.Uint32(pg[e+8:]))
			if e+pos+ks <= len(pg) {
				return pg.slice(e+pos, ks)
			}
			if ks > maxPageBytes || pg.id() == 0 {
				return nil, fmt.Errorf("%w: the last key of a leaf is outside it", ErrNotBolt)
			}
			return p.rd.read(int64(pg.id())*p.pageSize+int64(e+pos), int64(ks))
		default:
			return nil, fmt.Errorf("%w: page of unknown kind %#x", ErrNotBolt, pg.flags())
		}
	}
}
