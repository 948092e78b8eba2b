package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

func put(key string, rev int64, value []byte) DeltaEvent {
	return DeltaEvent{EtcdEvent: &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte(key), Value: value, CreateRevision: rev, ModRevision: rev, Version: 1}},
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func encoded(t testing.TB, events ...DeltaEvent) []byte {
	var buf bytes.Buffer
	if err := EncodeDelta(&buf, events); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(dr *DeltaReader) ([]DeltaEvent, error) {
	var out []DeltaEvent
	for {
		ev, err := dr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestDeltaReaderChecks(t *testing.T) {
	good := encoded(t, put("/a", 5, []byte("1")), put("/b", 6, []byte("2")), put("/c", 6, []byte("3")))
	flipped := append([]byte{}, good...)
	flipped[10] ^= 0x40 // inside the JSON: a checksum failure, not bad JSON
	cases := []struct {
		name       string
		data       []byte
		start, end int64
		events     int
		err        error
		what       string
	}{
		{name: "good", data: good, start: 5, end: 6, events: 3},
		{name: "good without range", data: good, start: 1, end: 0, events: 3},
		{name: "whitespace after the array", data: trailer([]byte("[ ]\n")), start: 1, end: 0},
		{name: "empty array", data: encoded(t), start: 5, end: 6},
		{name: "zero bytes", data: nil, start: 5, end: 6, err: ErrNoTrailer},
		{name: "flipped bit", data: flipped, start: 5, end: 6, err: ErrChecksum},
		{name: "not json", data: trailer([]byte("{not json")), start: 5, end: 6, what: "not a JSON array"},
		{name: "null (an empty slice marshalled)", data: trailer([]byte("null")), start: 5, end: 6},
		{name: "a number", data: trailer([]byte("7")), start: 5, end: 6, what: "not a JSON array"},
		{name: "no key-value", data: trailer([]byte(`[{"etcdEvent":{}}]`)), start: 1, end: 0, what: "no key-value"},
		{name: "outside range", data: good, start: 5, end: 5, events: 1, what: "outside the revisions 5-5"},
		{name: "out of order", data: encoded(t, put("/a", 6, nil), put("/b", 5, nil)), start: 5, end: 6, events: 1, what: "out of order"},
		{name: "data after the array", data: trailer([]byte("[] x")), start: 1, end: 0, what: "data after its JSON array"},
		{name: "truncated", data: good[:len(good)-40], start: 5, end: 6, events: 2, err: ErrChecksum},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dr := NewDeltaReader(bytes.NewReader(tc.data), tc.start, tc.end)
			got, err := readAll(dr)
			if len(got) != tc.events {
				t.Errorf("decoded %d events, want %d", len(got), tc.events)
			}
			switch {
			case tc.err == nil && tc.what == "":
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if dr.Bytes() != int64(len(tc.data)) {
					t.Errorf("read %d bytes, want %d", dr.Bytes(), len(tc.data))
				}
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("error %v, want %v", err, tc.err)
			case tc.what != "" && (err == nil || !strings.Contains(err.Error(), tc.what)):
				t.Fatalf("error %v, want it to say %q", err, tc.what)
			}
		})
	}
}

func trailer(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(append([]byte{}, body...), sum[:]...)
}

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bomb is a gzip stream of a one-revision delta whose single value inflates to size bytes.
func bomb(t testing.TB, size int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	fmt.Fprint(zw, `[{"etcdEvent":{"kv":{"key":"L2E=","create_revision":5,"mod_revision":5,"version":1,"value":"`)
	chunk := bytes.Repeat([]byte("QUFB"), 1<<18)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		zw.Write(chunk)
	}
	fmt.Fprint(zw, `"}},"time":"2026-01-02T03:04:05Z"}]`)
	zw.Close()
	return buf.Bytes()
}

// A 1 GiB value in a delta that names one revision is refused after reading about one event's bound, with the heap
// bounded; the whole 1 GiB is never inflated.
func TestDeltaReaderRefusesBombEarly(t *testing.T) {
	z := bomb(t, 1<<30)
	t.Logf("bomb: %d KiB gzip inflating to 1 GiB", len(z)>>10)
	zr, err := NewDecompressor(bytes.NewReader(z), Gzip)
	if err != nil {
		t.Fatal(err)
	}
	plain := &countingReader{r: zr}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() { // sample the heap while decoding
		var max uint64
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > max {
					max = ms.HeapInuse
				}
			}
		}
	}()
	_, err = readAll(NewDeltaReader(plain, 5, 5))
	close(stop)
	heap := <-peak
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("error %v, want ErrTooBig", err)
	}
	t.Logf("refused after %d MiB of 1024 inflated; peak heap in use %d MiB: %v", plain.n>>20, heap>>20, err)
	if plain.n > 2*MaxEventBytes {
		t.Errorf("read %d MiB before refusing, want at most %d", plain.n>>20, 2*MaxEventBytes>>20)
	}
	if heap > 64<<20 {
		t.Errorf("peak heap in use %d MiB, want < 64 MiB", heap>>20)
	}
}

// Many small events at one revision pass MaxRevisionBytes and are refused, each event being small.
func TestDeltaReaderBoundsOneRevision(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, "[")
		ev, _ := json.Marshal(put("/k", 7, bytes.Repeat([]byte("v"), 1000)))
		for i := 0; i < (MaxRevisionBytes/len(ev))+10; i++ {
			if i > 0 {
				pw.Write([]byte(","))
			}
			if _, err := pw.Write(ev); err != nil {
				return
			}
		}
		pw.CloseWithError(errors.New("writer: should have been refused before the end"))
	}()
	_, err := readAll(NewDeltaReader(pr, 7, 7))
	pr.Close()
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "revision 7") {
		t.Fatalf("error %v, want ErrTooBig naming revision 7", err)
	}
}

// fixtureDeltas are the uncompressed deltas of the committed testdata stores.
func fixtureDeltas(t testing.TB) [][]byte {
	var out [][]byte
	root := filepath.Join("..", "..", "testdata", "stores")
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasPrefix(fi.Name(), "Incr-") {
			return err
		}
		name := strings.TrimSuffix(fi.Name(), ".final")
		c := None
		for _, cand := range []Compression{Gzip, Zlib, LZW} {
			if strings.HasSuffix(name, cand.Suffix()) {
				c = cand
			}
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r, err := NewDecompressor(f, c)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		out = append(out, b)
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("read fixture deltas: %v (%d found)", err, len(out))
	}
	return out
}

// legacyDecode is the all-in-memory decoder the stream replaced: the reference for what a good delta holds.
func legacyDecode(data []byte) ([]DeltaEvent, error) {
	if len(data) < TrailerSize {
		return nil, ErrNoTrailer
	}
	body, sum := data[:len(data)-TrailerSize], data[len(data)-TrailerSize:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, ErrChecksum
	}
	var events []DeltaEvent
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, err
	}
	return events, nil
}

func FuzzDecodeDelta(f *testing.F) {
	for _, d := range fixtureDeltas(f) {
		f.Add(d)
	}
	f.Add([]byte{})
	f.Add(trailer([]byte("[]")))
	f.Add(trailer([]byte(`[{"etcdEvent":{"type":1,"kv":{"key":"L2I=","mod_revision":6}},"time":"2026-01-02T03:04:05Z"}]`)))
	f.Add(trailer([]byte(`[{"etcdEvent":{}}]`)))
	f.Add(trailer([]byte(`[{"etcdEvent":{"kv":{"key":"L2\u0045=","mod_revision":6,"lease":-1}},"time":"2026-01-02T03:04:05.5+01:00"} , {"etcdEvent":{"kv":{"key":"L2E=","mod_revision":7}}}]`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := DecodeDeltaBytes(data)
		want, lerr := legacyDecode(data)
		if err != nil {
			// What the whole-object decoder accepts, the stream accepts too, unless an event has no key-value
			// (which the whole-object decoder let through) or passes the bounds.
			if lerr == nil && !errors.Is(err, ErrTooBig) && allHaveKV(want) {
				t.Fatalf("the whole-object decoder read %d events, the stream failed: %v", len(want), err)
			}
			return
		}
		// What the stream accepts, the whole-object decoder accepts with the same events.
		if lerr != nil {
			t.Fatalf("stream decoded %d events, the whole-object decoder failed: %v", len(events), lerr)
		}
		a, _ := json.Marshal(events)
		b, _ := json.Marshal(want)
		if len(events) == 0 && len(want) == 0 {
			return
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("stream decoded %s, whole-object decoder %s", a, b)
		}
		// And re-encoding what was decoded decodes to the same events.
		again, err := DecodeDeltaBytes(encoded(t, events...))
		if err != nil {
			t.Fatalf("re-encoded delta does not decode: %v", err)
		}
		c, _ := json.Marshal(again)
		if !bytes.Equal(a, c) {
			t.Fatalf("round trip changed events: %s → %s", a, c)
		}
	})
}

// The fast path and encoding/json agree on every spelling a writer may use; what the fast path does not take
// falls back to encoding/json, so the events are the same either way.
func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	cases := map[string]string{
		"as json.Marshal writes": `{"etcdEvent":{"kv":{"key":"L2E=","create_revision":5,"mod_revision":6,"version":2,"value":"MQ==","lease":7}},"time":"2026-01-02T03:04:05.123456789+01:00"}`,
		"a delete with prev_kv":  `{"etcdEvent":{"type":1,"kv":{"key":"L2E=","mod_revision":6},"prev_kv":{"key":"L2E=","create_revision":5,"mod_revision":5,"version":1,"value":"eA=="}},"time":"2026-01-02T03:04:05Z"}`,
		"whitespace":             " { \"etcdEvent\" : { \"kv\" : { \"key\" : \"L2E=\" ,\n\"mod_revision\" : 6 } } , \"time\" : \"2026-01-02T03:04:05Z\" } ",
		"escaped key bytes":      `{"etcdEvent":{"kv":{"key":"L2\u0045=","mod_revision":6}}}`,
		"other spelling":         `{"EtcdEvent":{"KV":{"Key":"L2E=","Mod_Revision":6}}}`,
		"repeated object":        `{"etcdEvent":{"kv":{"key":"L2E="},"kv":{"mod_revision":6}}}`,
		"unknown field":          `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6,"extra":[1,{"a":"b"}]}},"x":null}`,
		"nulls":                  `{"etcdEvent":{"kv":{"key":null,"value":null,"mod_revision":6},"prev_kv":null},"time":null}`,
		"empty value":            `{"etcdEvent":{"kv":{"key":"L2E=","value":"","mod_revision":6}}}`,
		"negative and zero":      `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6,"lease":-3,"version":0}}}`,
		"exponent":               `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6e0}}}`,
		"leading zero":           `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":06}}}`,
		"bad base64":             `{"etcdEvent":{"kv":{"key":"L2E","mod_revision":6}}}`,
		"newline in base64":      "{\"etcdEvent\":{\"kv\":{\"key\":\"L2\nE=\",\"mod_revision\":6}}}",
		"huge number":            `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":99999999999999999999}}}`,
		"19 digits too big":      `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":9223372036854775808}}}`,
		"smallest int64":         `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6,"lease":-9223372036854775808}}}`,
		"a lease ID":             `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6,"lease":7587887788888888888}}}`,
		"bad time":               `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6}},"time":"yesterday"}`,
		"trailing garbage":       `{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6}}}}`,
		"not an object":          `[1,2]`,
	}
	for name, elem := range cases {
		t.Run(name, func(t *testing.T) {
			var want DeltaEvent
			werr := json.Unmarshal([]byte(elem), &want)
			got, gerr := decodeEvent([]byte(elem))
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("decodeEvent error %v, encoding/json error %v", gerr, werr)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			if !bytes.Equal(a, b) {
				t.Fatalf("decodeEvent gave %s, encoding/json %s", a, b)
			}
		})
	}
	// The common shape must take the fast path, or the speed-up is gone without a test noticing.
	for _, name := range []string{"as json.Marshal writes", "a delete with prev_kv", "a lease ID", "smallest int64"} {
		if _, ok := parseEvent([]byte(cases[name])); !ok {
			t.Errorf("%s: fell back to encoding/json", name)
		}
	}
}

// BenchmarkDeltaReader decodes a 10 000-event delta of 100-byte values (the restore benchmark's shape).
func BenchmarkDeltaReader(b *testing.B) {
	events := make([]DeltaEvent, 10000)
	for i := range events {
		events[i] = put(fmt.Sprintf("/registry/pods/default/pod-%07d", i), int64(100+i), bytes.Repeat([]byte("v"), 100))
	}
	data := encoded(b, events...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := readAll(NewDeltaReader(bytes.NewReader(data), 100, int64(100+len(events)-1)))
		if err != nil || len(got) != len(events) {
			b.Fatalf("%d events, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
}

func allHaveKV(events []DeltaEvent) bool {
	for _, e := range events {
		if e.EtcdEvent == nil || e.EtcdEvent.Kv == nil {
			return false
		}
	}
	return true
}

// Element boundaries fall anywhere in the reads: one byte at a time, with escapes (other writers escape what
// json.Marshal does not) and values larger than the reader's buffer, the stream reads what the whole-object
// decoder reads.
func TestDeltaReaderAnyReadSize(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 3*readChunk))
	body := `[{"etcdEvent":{"kv":{"key":"L2\u0045=","mod_revision":5,"value":"` + big + `"}},"time":"2026-01-02T03:04:05Z"},` +
		`{"etcdEvent":{"kv":{"key":"L2E=","mod_revision":6,"value":"\u004d\u0051=="}}},` +
		`{"etcdEvent":{"type":1,"kv":{"key":"L2E=","mod_revision":7}}}]`
	data := trailer([]byte(body))
	want, err := legacyDecode(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(data),
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"halves":   iotest.HalfReader(bytes.NewReader(data)),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeDelta(r)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			if !bytes.Equal(a, b) {
				t.Fatalf("stream read %.200s..., whole-object decoder %.200s...", a, b)
			}
		})
	}
}
