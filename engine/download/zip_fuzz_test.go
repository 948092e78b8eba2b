package download

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/store"
)

func zipBytes(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(bytes.Repeat([]byte("etcd"), 1024))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzZipEntry: any bytes under a k3s .zip name are a checked entry or a problem, never a panic nor another
// error; reading an accepted entry never yields more than it declares.
func FuzzZipEntry(f *testing.F) {
	f.Add(zipBytes(f, "s"))
	f.Add(zipBytes(f, "s", "t"))
	f.Add(zipBytes(f, "other"))
	f.Add([]byte("PK\x03\x04 not a zip"))
	ctx := context.Background()
	st, err := store.Open(ctx, "mem://fuzz-zip")
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := st.NewWriter(ctx, "s.zip", store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(b)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		zf, err := ZipEntry(ctx, st, "s.zip", int64(len(b)))
		if err != nil {
			if !errors.Is(err, fault.ErrProblems) {
				t.Fatalf("not a problem: %v", err)
			}
			return
		}
		rc, err := openZip(ctx, st, "s.zip", int64(len(b)))
		if err != nil {
			return
		}
		defer rc.Close()
		got, _ := io.Copy(io.Discard, io.LimitReader(rc, 1<<24))
		if uint64(got) > zf.UncompressedSize64 {
			t.Fatalf("read %d bytes from an entry declaring %d", got, zf.UncompressedSize64)
		}
	})
}
