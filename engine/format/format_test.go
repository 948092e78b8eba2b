package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

func withTrailer(body []byte) []byte { return trailer(body) }

func TestTrailerHashAnyChunking(t *testing.T) {
	body := make([]byte, 100_000)
	rand.New(rand.NewSource(7)).Read(body)
	data := withTrailer(body)
	for _, chunk := range []int{1, 7, 31, 32, 33, 4096, len(data)} {
		th := NewTrailerHash()
		for i := 0; i < len(data); i += chunk {
			end := min(i+chunk, len(data))
			th.Write(data[i:end])
		}
		require.NoError(t, th.Verify(), "chunk %d", chunk)
		sum := sha256.Sum256(body)
		require.Equal(t, int64(len(data)), th.Size())
		require.Equal(t, sum[:], mustHex(t, th.Sum()))
	}
	bad := append([]byte{}, data...)
	bad[500] ^= 1
	th := NewTrailerHash()
	th.Write(bad)
	require.True(t, errors.Is(th.Verify(), ErrChecksum))
	short := NewTrailerHash()
	short.Write([]byte("tiny"))
	require.True(t, errors.Is(short.Verify(), ErrNoTrailer))
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestCompressionRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("etcd-dr compresses deltas "), 5000)
	for _, c := range []Compression{None, Gzip, Zlib, LZW, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewCompressor(&buf, c)
			require.NoError(t, err)
			_, err = w.Write(data)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			r, err := NewDecompressor(&buf, c)
			require.NoError(t, err)
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.Equal(t, data, got)
			got2, ok := CompressionForSuffix(c.Suffix())
			require.True(t, ok)
			require.Equal(t, c, got2)
		})
	}
	_, err := ParseCompression("bzip2")
	require.Error(t, err)
}

func TestDeltaEncodingMatchesEtcdBackupRestore(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []DeltaEvent{
		{EtcdEvent: &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte("/a"), Value: []byte("1"), CreateRevision: 5, ModRevision: 5, Version: 1, Lease: 7}}, Time: ts},
		{EtcdEvent: &mvccpb.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte("/b"), ModRevision: 6}}, Time: ts},
	}
	var buf bytes.Buffer
	require.NoError(t, EncodeDelta(&buf, events))
	raw := buf.Bytes()
	body := raw[:len(raw)-TrailerSize]
	// etcd-backup-restore marshals []{etcdEvent, time} with encoding/json: bytes base64, PUT (0) omitted, DELETE = 1.
	require.Equal(t, `[{"etcdEvent":{"kv":{"key":"L2E=","create_revision":5,"mod_revision":5,"version":1,"value":"MQ==","lease":7}},"time":"2026-01-02T03:04:05Z"},{"etcdEvent":{"type":1,"kv":{"key":"L2I=","mod_revision":6}},"time":"2026-01-02T03:04:05Z"}]`, string(body))
	got, err := DecodeDeltaBytes(raw)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, int64(6), got[1].Revision())
	require.Equal(t, mvccpb.DELETE, got[1].EtcdEvent.Type)

	raw[3] ^= 1
	_, err = DecodeDeltaBytes(raw)
	require.True(t, errors.Is(err, ErrChecksum))
	_, err = DecodeDeltaBytes(withTrailer([]byte("not json")))
	require.ErrorContains(t, err, "not a JSON array")
	_, err = DecodeDeltaBytes(withTrailer([]byte(`[{"etcdEvent":{}}]`)))
	require.ErrorContains(t, err, "no key-value")
}

func TestHasSnapshotTrailer(t *testing.T) {
	require.True(t, HasSnapshotTrailer(4096*10+32))
	require.False(t, HasSnapshotTrailer(4096*10))
}
