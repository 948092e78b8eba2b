package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Decoding one event: a strict parser of the shape json.Marshal writes (and etcd-backup-restore, which writes
// with json.Marshal too), falling back to encoding/json for anything else. Measured on BenchmarkDeltaReader:
// encoding/json's Decoder spent most of the decode in its scanner, which reads each value twice (find its end,
// then unmarshal it); no faster decoder is in the module graph (sigs.k8s.io/json is encoding/json), and
// encoding/json/v2 needs GOEXPERIMENT. The fast path accepts a subset of what encoding/json accepts and gives the
// same events (FuzzDecodeDelta holds it to that): exact field names, each at most once, integers without
// fraction or exponent, strings without escapes. Anything else - other spellings, nulls, unknown fields, bad
// bytes - goes to json.Unmarshal, whose result and errors are the reference.

// decodeEvent decodes one array element.
func decodeEvent(elem []byte) (DeltaEvent, error) {
	if ev, ok := parseEvent(elem); ok {
		return ev, nil
	}
	var ev DeltaEvent
	err := json.Unmarshal(elem, &ev)
	return ev, err
}

// eventKV is an event and its key-value in one allocation.
type eventKV struct {
	ev mvccpb.Event
	kv mvccpb.KeyValue
}

// parser walks one element; any deviation from the fast path's subset sets ok false.
type parser struct {
	b  []byte
	i  int
	ok bool
}

func parseEvent(b []byte) (DeltaEvent, bool) {
	p := parser{b: b, ok: true}
	var out DeltaEvent
	var seen uint8
	p.object(func(name []byte) {
		switch string(name) {
		case "etcdEvent":
			p.once(&seen, 1)
			out.EtcdEvent = p.event()
		case "time":
			p.once(&seen, 2)
			s := p.rawString(false)
			if p.ok && out.Time.UnmarshalJSON(s) != nil {
				p.ok = false
			}
		default:
			p.ok = false
		}
	})
	p.ws()
	return out, p.ok && p.i == len(p.b)
}

func (p *parser) once(seen *uint8, bit uint8) {
	if *seen&bit != 0 {
		p.ok = false // encoding/json merges a repeated object field: leave that to it
	}
	*seen |= bit
}

func (p *parser) event() *mvccpb.Event {
	x := &eventKV{}
	var seen uint8
	p.object(func(name []byte) {
		switch string(name) {
		case "type":
			p.once(&seen, 1)
			n := p.int(9) // fits int32
			x.ev.Type = mvccpb.Event_EventType(n)
		case "kv":
			p.once(&seen, 2)
			p.kv(&x.kv)
			x.ev.Kv = &x.kv
		case "prev_kv":
			p.once(&seen, 4)
			x.ev.PrevKv = &mvccpb.KeyValue{}
			p.kv(x.ev.PrevKv)
		default:
			p.ok = false
		}
	})
	return &x.ev
}

func (p *parser) kv(kv *mvccpb.KeyValue) {
	var seen uint8
	p.object(func(name []byte) {
		switch string(name) {
		case "key":
			p.once(&seen, 1)
			kv.Key = p.bytes()
		case "value":
			p.once(&seen, 2)
			kv.Value = p.bytes()
		case "create_revision":
			p.once(&seen, 4)
			kv.CreateRevision = p.int(19)
		case "mod_revision":
			p.once(&seen, 8)
			kv.ModRevision = p.int(19)
		case "version":
			p.once(&seen, 16)
			kv.Version = p.int(19)
		case "lease":
			p.once(&seen, 32)
			kv.Lease = p.int(19)
		default:
			p.ok = false
		}
	})
}

// object parses {"name": value, ...}, calling member with each name positioned at its value.
func (p *parser) object(member func(name []byte)) {
	p.ws()
	if !p.take('{') {
		return
	}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return
	}
	for p.ok {
		name := p.rawString(false)
		if !p.ok {
			return
		}
		p.ws()
		if !p.take(':') {
			return
		}
		p.ws()
		member(name[1 : len(name)-1])
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			p.ws()
			continue
		}
		p.take('}')
		return
	}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) take(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	p.ok = false
	return false
}

// rawString returns a string with its quotes; one with an escape or a control character is not for the fast path.
// A string that is to be base64-decoded is searched only for what base64 would let through.
func (p *parser) rawString(base64ish bool) []byte {
	if !p.take('"') {
		return nil
	}
	start := p.i - 1
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 {
		p.ok = false
		return nil
	}
	s := p.b[p.i : p.i+end]
	p.i += end + 1
	if bytes.IndexByte(s, '\\') >= 0 {
		p.ok = false
		return nil
	}
	if !base64ish {
		for _, c := range s {
			if c < 0x20 {
				p.ok = false
				return nil
			}
		}
	} else if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		// base64 refuses every other control character itself, but skips these two, which JSON refuses
		p.ok = false
		return nil
	}
	return p.b[start:p.i]
}

// bytes decodes a base64 string as encoding/json does for a []byte (a new slice, not shared).
func (p *parser) bytes() []byte {
	s := p.rawString(true)
	if !p.ok {
		return nil
	}
	s = s[1 : len(s)-1]
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		p.ok = false
		return nil
	}
	return b[:n]
}

// int parses an integer of at most digits digits that fits an int64 (lease IDs take all 19); a fraction, an
// exponent or an overflow is not for the fast path.
func (p *parser) int(digits int) int64 {
	neg := p.i < len(p.b) && p.b[p.i] == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n uint64 // 19 digits fit
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + uint64(p.b[p.i]-'0')
		p.i++
	}
	l := p.i - start
	switch {
	case l == 0 || l > digits || (l > 1 && p.b[start] == '0'):
		p.ok = false
	case p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E'):
		p.ok = false
	case n > math.MaxInt64 && !(neg && n == math.MaxInt64+1):
		p.ok = false
	}
	if neg {
		return int64(-n)
	}
	return int64(n)
}
