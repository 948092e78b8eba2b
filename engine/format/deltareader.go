package format

import (
	"bytes"
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

// TooBigError is an ErrTooBig refusal with what passed which bound, for a caller that names the object.
type TooBigError struct{ What string }

func (e *TooBigError) Error() string { return ErrTooBig.Error() + ": " + e.What }

func (e *TooBigError) Is(target error) bool { return target == ErrTooBig }

// DeltaReader decodes a delta as a stream, one event at a time, and checks its sha256 trailer on the same pass:
// memory stays bounded by one event whatever the object's size. With a revision range (from the object's name)
// it also refuses events outside the range or out of order, and bytes past MaxRevisionBytes per revision.
//
// It finds each array element's end itself (a bracket and string scan, much cheaper than encoding/json's
// scanner) and decodes the element with decodeEvent; the elements' JSON is checked there.
type DeltaReader struct {
	src     *limitedReader
	th      *TrailerHash
	buf     []byte // buf[r:w] is read and not yet consumed
	r, w    int
	base    int64 // input offset of buf[0]
	eof     bool
	start   int64 // range the events must lie in; end < start means unchecked
	end     int64
	state   int // 0 before '[', 1 inside the array, 2 after ']' and the trailer checked
	n       int // events decoded
	lastRev int64
	revFrom int64 // input offset where the current revision's events began
	prevEnd int64 // input offset where the previous event ended
	err     error
}

// readChunk is how much is read from the source at a time.
const readChunk = 64 << 10

// NewDeltaReader reads the uncompressed delta r. start and end are the revisions its name promises
// (end < start: no range check, and only the per-event bound applies).
func NewDeltaReader(r io.Reader, start, end int64) *DeltaReader {
	th := NewTrailerHash()
	// The limit sits under the reader's buffer, so it also bounds what is read ahead of the events.
	src := &limitedReader{r: io.TeeReader(r, th), limit: MaxEventBytes}
	return &DeltaReader{src: src, th: th, start: start, end: end, buf: make([]byte, readChunk)}
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

// offset is the input offset of the next unconsumed byte.
func (d *DeltaReader) offset() int64 { return d.base + int64(d.r) }

// fill reads more input, keeping buf[from:w]; it returns false at the end of the input.
func (d *DeltaReader) fill(from int) (bool, error) {
	if d.eof {
		return false, nil
	}
	if from > 0 { // move what is kept to the front
		n := copy(d.buf, d.buf[from:d.w])
		d.base += int64(from)
		d.r -= from
		d.w = n
	}
	if len(d.buf)-d.w < readChunk/2 { // an element longer than the buffer: grow it (bounded by the read limit)
		nb := make([]byte, 2*len(d.buf))
		copy(nb, d.buf[:d.w])
		d.buf = nb
	}
	for {
		m, err := d.src.Read(d.buf[d.w:])
		d.w += m
		if errors.Is(err, io.EOF) {
			d.eof = true
			return m > 0, nil
		}
		if err != nil {
			return m > 0, err
		}
		if m > 0 {
			return true, nil
		}
	}
}

// peek skips JSON whitespace and returns the next byte without consuming it; ok is false at the end of the input.
func (d *DeltaReader) peek() (byte, bool, error) {
	for {
		for d.r < d.w {
			switch c := d.buf[d.r]; c {
			case ' ', '\t', '\n', '\r':
				d.r++
			default:
				return c, true, nil
			}
		}
		more, err := d.fill(d.r)
		if err != nil {
			return 0, false, err
		}
		if !more {
			return 0, false, nil
		}
	}
}

// element returns the bytes of the JSON value that starts at the next byte (valid until the next read), found by
// its brackets and strings; whether they are JSON is for the decoder to say.
func (d *DeltaReader) element() ([]byte, error) {
	from, i := d.r, d.r
	depth, inString := 0, false
	for {
	scan:
		for i < d.w {
			if inString {
				// Strings are most of a delta (base64 values): find their end with the SIMD searches.
				rest := d.buf[i:d.w]
				q := bytes.IndexByte(rest, '"')
				seg := rest
				if q >= 0 {
					seg = rest[:q]
				}
				if e := bytes.IndexByte(seg, '\\'); e >= 0 {
					if i+e+1 >= d.w {
						i += e
						break scan // the escaped byte is not read yet
					}
					i += e + 2
					continue
				}
				if q < 0 {
					i = d.w
					continue
				}
				i += q + 1
				inString = false
				if depth == 0 {
					return d.cut(from, i), nil
				}
				continue
			}
			switch c := d.buf[i]; c {
			case '"':
				inString = true
				i++
			case '{', '[':
				depth++
				i++
			case '}', ']':
				if depth == 0 {
					return d.cut(from, i), nil // the end of a number or literal
				}
				i++
				if depth--; depth == 0 {
					return d.cut(from, i), nil
				}
			case ',', ' ', '\t', '\n', '\r':
				if depth == 0 {
					return d.cut(from, i), nil // the end of a number or literal
				}
				i++
			default:
				i++
			}
		}
		r0 := d.r
		more, err := d.fill(from)
		i -= r0 - d.r // the kept bytes moved to the front
		from = d.r
		if err != nil {
			return nil, err
		}
		if !more {
			if depth == 0 && !inString && i > from {
				return d.cut(from, i), nil // a number or literal at the very end
			}
			return nil, io.ErrUnexpectedEOF
		}
	}
}

// cut consumes buf[from:to] and returns it.
func (d *DeltaReader) cut(from, to int) []byte {
	d.r = to
	return d.buf[from:to]
}

// literal returns the next n bytes (fewer at the end of the input) without consuming them.
func (d *DeltaReader) literal(n int) []byte {
	for d.w-d.r < n {
		if more, err := d.fill(d.r); !more || err != nil {
			break
		}
	}
	return d.buf[d.r:min(d.w, d.r+n)]
}

func (d *DeltaReader) next() (DeltaEvent, error) {
	if d.state == 2 {
		return DeltaEvent{}, io.EOF
	}
	if d.state == 0 {
		c, ok, err := d.peek()
		if err != nil {
			return DeltaEvent{}, err
		}
		if !ok {
			return DeltaEvent{}, fmt.Errorf("%w: delta is only %d bytes", ErrNoTrailer, d.th.Size())
		}
		switch c {
		case 'n':
			// encoding/json writes an empty slice as null: an empty delta, as the whole-object decoder read it.
			if lit := d.literal(4); string(lit) != "null" {
				return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: it starts with %q", lit)
			}
			d.r += 4
			if err := d.finish(); err != nil {
				return DeltaEvent{}, err
			}
			d.state = 2
			return DeltaEvent{}, io.EOF
		case '[':
			d.r++
		default:
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: it starts with %q", d.literal(8))
		}
		d.state = 1
		d.prevEnd = d.offset()
		d.src.limit = d.prevEnd + MaxEventBytes
	}
	c, ok, err := d.peek()
	if err != nil {
		return DeltaEvent{}, err
	}
	switch {
	case !ok:
		return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: it ends after %d events", d.n)
	case c == ']':
		d.r++
		if err := d.finish(); err != nil {
			return DeltaEvent{}, err
		}
		d.state = 2
		return DeltaEvent{}, io.EOF
	case d.n > 0 && c != ',':
		return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: after event %d comes %q", d.n, c)
	case d.n > 0:
		d.r++
		if c, ok, err = d.peek(); err != nil {
			return DeltaEvent{}, err
		} else if !ok || c == ']' {
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: no event after the comma after event %d", d.n)
		}
	}
	elem, err := d.element()
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return DeltaEvent{}, fmt.Errorf("delta is not a JSON array of events: event %d: %w", d.n, err)
		}
		return DeltaEvent{}, err
	}
	ev, err := decodeEvent(elem)
	if err != nil {
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
	off := d.offset()
	if d.n == 0 || rev != d.lastRev {
		d.revFrom = d.prevEnd // this revision's bytes count from the end of the previous event
	}
	if off-d.revFrom > MaxRevisionBytes {
		return DeltaEvent{}, &TooBigError{What: fmt.Sprintf("revision %d takes more than %d MiB of events", rev, MaxRevisionBytes>>20)}
	}
	d.n++
	d.lastRev = rev
	d.prevEnd = off
	// At most one more event's bound may be read past what was consumed.
	d.src.limit = off + MaxEventBytes
	return ev, nil
}

// finish reads what follows the array: optional JSON whitespace, then exactly the 32-byte trailer.
func (d *DeltaReader) finish() error {
	rest := io.MultiReader(bytes.NewReader(d.buf[d.r:d.w]), d.src)
	d.r = d.w
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
			return &TooBigError{What: fmt.Sprintf("an event (or the data around it) passes %d MiB after %d events", MaxEventBytes>>20, d.n)}
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
