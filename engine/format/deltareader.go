package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Bounds on what one delta can hold, derived from etcd's request limits: etcd refuses a request larger than
// --max-request-bytes (1.5 MiB by default; etcd warns above 10 MiB), and one request makes one revision. In the
// delta's JSON a key and value are base64 (4/3 of their size) plus about 200 bytes of framing.
const (
	// MaxEventBytes bounds the JSON of one event: a key and value of up to 9 MiB together, in base64.
	MaxEventBytes = 12 << 20
	// MaxRevisionBytes bounds the JSON of all events of one revision. A put or a transaction is bounded by the
	// request size; a range delete is not (one event per deleted key), so this leaves room for about 300 000
	// deleted keys of ordinary length in one revision.
	MaxRevisionBytes = 64 << 20
)

// ErrTooBig marks a delta whose decompressed bytes pass what its events can be (a decompression bomb, or
// garbage): it is refused before it is read to the end.
var ErrTooBig = errors.New("delta is larger than its events can be")

// DeltaReader decodes a delta as a stream, one event at a time, and checks its sha256 trailer on the same pass:
// memory stays bounded by one event whatever the object's size. With a revision range (from the object's name)
// it also refuses events outside the range or out of order, and bytes past MaxRevisionBytes per revision.
type DeltaReader struct {
	src     *limitedReader
	th      *TrailerHash
	dec     *json.Decoder
	start   int64 // range the events must lie in; end < start means unchecked
	end     int64
	state   int // 0 before '[', 1 inside the array, 2 after ']' and the trailer checked
	n       int // events decoded
	lastRev int64
	revFrom int64 // input offset where the current revision's events began
	prevEnd int64 // input offset where the previous event ended
	err     error
}

// NewDeltaReader reads the uncompressed delta r. start and end are the revisions its name promises
// (end < start: no range check, and only the per-event bound applies).
func NewDeltaReader(r io.Reader, start, end int64) *DeltaReader {
	th := NewTrailerHash()
	src := &limitedReader{r: io.TeeReader(r, th), limit: MaxEventBytes}
	d := &DeltaReader{src: src, th: th, start: start, end: end}
	// The limit sits under the decoder, so it also bounds what the decoder buffers ahead.
	d.dec = json.NewDecoder(src)
	return d
}

// Events is the number of events decoded so far.
func (d *DeltaReader) Events() int { return d.n }

// Bytes is the number of uncompressed bytes read so far (the trailer included, once read).
func (d *DeltaReader) Bytes() int64 { return d.th.Size() }

// Sum is the hex sha256 of the JSON, valid once Next has returned io.EOF.
func (d *DeltaReader) Sum() string { return d.th.Sum() }

// Next returns the next event. At the end of the array it reads the trailer and returns io.EOF when the sha256
// matches; any other error is final. An error of a damaged delta wraps ErrChecksum, ErrNoTrailer or ErrTooBig
// when the bytes show that, so a flipped bit reports as a checksum failure, not as bad JSON.
func (d *DeltaReader) Next() (DeltaEvent, error) {
	if d.err != nil {
		return DeltaEvent{}, d.err
	}
	ev, err := d.next()
	if err != nil {
		d.err = d.classify(err)
		return DeltaEvent{}, d.err
	}
	return ev, nil
}

func (d *DeltaReader) next() (DeltaEvent, error) {
	if d.state == 0 {
		tok, err := d.dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return DeltaEvent{}, fmt.Errorf("%w: delta is only %d bytes", ErrNoTrailer, d.th.Size())
			}
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: %w", err)
		}
		if tok == nil {
			// encoding/json writes an empty slice as null: an empty delta, as the whole-object decoder read it.
			if err := d.finish(); err != nil {
				return DeltaEvent{}, err
			}
			d.state = 2
			return DeltaEvent{}, io.EOF
		}
		if delim, ok := tok.(json.Delim); !ok || delim != '[' {
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: it starts with %v", tok)
		}
		d.state = 1
		d.prevEnd = d.dec.InputOffset()
		d.src.limit = d.prevEnd + MaxEventBytes
	}
	if d.state == 2 {
		return DeltaEvent{}, io.EOF
	}
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != nil {
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: %w", err)
		}
		if err := d.finish(); err != nil {
			return DeltaEvent{}, err
		}
		d.state = 2
		return DeltaEvent{}, io.EOF
	}
	var ev DeltaEvent
	if err := d.dec.Decode(&ev); err != nil {
		return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: event %d: %w", d.n, err)
	}
	if ev.EtcdEvent == nil || ev.EtcdEvent.Kv == nil {
		return DeltaEvent{}, fmt.Errorf("delta event %d has no key-value", d.n)
	}
	rev := ev.Revision()
	if d.end >= d.start {
		switch {
		case rev < d.start || rev > d.end:
			return DeltaEvent{}, fmt.Errorf("event %d is at revision %d, outside the revisions %d-%d its name promises", d.n, rev, d.start, d.end)
		case d.n > 0 && rev < d.lastRev:
			return DeltaEvent{}, fmt.Errorf("events out of order: revision %d after %d", rev, d.lastRev)
		}
	}
	off := d.dec.InputOffset()
	if d.n == 0 || rev != d.lastRev {
		d.revFrom = d.prevEnd // this revision's bytes count from the end of the previous event
	}
	if off-d.revFrom > MaxRevisionBytes {
		return DeltaEvent{}, fmt.Errorf("%w: revision %d takes more than %d MiB of events", ErrTooBig, rev, MaxRevisionBytes>>20)
	}
	d.n++
	d.lastRev = rev
	d.prevEnd = off
	// The decoder may read at most one more event's bound past what it has consumed.
	d.src.limit = off + MaxEventBytes
	return ev, nil
}

// finish reads what follows the array: optional JSON whitespace, then exactly the 32-byte trailer.
func (d *DeltaReader) finish() error {
	rest := io.MultiReader(d.dec.Buffered(), d.src)
	d.src.limit = d.src.n + MaxEventBytes // whitespace after the array is bounded like an event
	var window [TrailerSize]byte
	n := 0
	buf := make([]byte, 4096)
	for {
		m, err := rest.Read(buf)
		for _, c := range buf[:m] {
			if n == TrailerSize {
				if out := window[0]; out != ' ' && out != '\t' && out != '\n' && out != '\r' {
					return fmt.Errorf("delta has data after its JSON array")
				}
				copy(window[:], window[1:])
				window[TrailerSize-1] = c
				continue
			}
			window[n] = c
			n++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	return d.th.Verify()
}

// classify prefers what the bytes prove over what the decoder saw: when the JSON broke off, the rest of the
// object is hashed (within the object's bound) and a failed checksum is reported instead.
func (d *DeltaReader) classify(err error) error {
	if errors.Is(err, ErrChecksum) || errors.Is(err, ErrNoTrailer) || errors.Is(err, ErrTooBig) || errors.Is(err, errReadLimit) {
		if errors.Is(err, errReadLimit) {
			return fmt.Errorf("%w: an event (or the data around it) passes %d MiB after %d events", ErrTooBig, MaxEventBytes>>20, d.n)
		}
		return err
	}
	var rerr *readError
	if errors.As(err, &rerr) {
		return rerr.err // the source failed: not a finding about the delta
	}
	// Drain within a bound: the whole object may take at most MaxRevisionBytes per named revision.
	bound := int64(MaxEventBytes)
	if d.end >= d.start {
		bound = (d.end - d.start + 1) * MaxRevisionBytes
	}
	d.src.limit = bound
	if _, derr := io.Copy(io.Discard, d.src); derr != nil {
		return err
	}
	if verr := d.th.Verify(); verr != nil {
		return verr
	}
	return err
}

var errReadLimit = errors.New("read limit")

// readError wraps a failure of the underlying reader, to tell I/O from damage.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// limitedReader fails once more than limit bytes in all were read from r.
type limitedReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errReadLimit
	}
	if int64(len(p)) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if err != nil && err != io.EOF {
		err = &readError{err: err}
	}
	return n, err
}
