package download_test

import (
	"context"
	"crypto/sha256"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/pick"
)

// BenchmarkDownload1GiB downloads a 1 GiB full snapshot (hash-verified, fsynced, renamed into place) and copies the
// same file with cp + sync, side by side; it reports both and their ratio (the issue asks ratio <= 1.2).
func BenchmarkDownload1GiB(b *testing.B) {
	const size = 1<<30 - 512 + 32 // a whole number of 512-byte blocks plus etcd's sha256 trailer
	dir := b.TempDir()
	storeDir := filepath.Join(dir, "store")
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		b.Fatal(err)
	}
	src := filepath.Join(storeDir, "3.6.16_0000000000000001_etcd.backup")
	writeSnapshot(b, src, size)
	st, cat := open(b, storeDir)
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	var ours, cp time.Duration
	for i := 0; i < b.N; i++ {
		to := filepath.Join(dir, "out.db")
		os.Remove(to)
		syscall.Sync() // start both runs with no dirty pages of the other's making
		t0 := time.Now()
		if _, err := download.Download(context.Background(), st, r, download.Config{To: to}); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		os.Remove(to)
		syscall.Sync()
		t0 = time.Now()
		if out, err := exec.Command("sh", "-c", `cp "$0" "$1" && sync "$1"`, src, to).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		cp += time.Since(t0)
		os.Remove(to)
	}
	b.ReportMetric(ours.Seconds()/float64(b.N), "s/download")
	b.ReportMetric(cp.Seconds()/float64(b.N), "s/cp+sync")
	b.ReportMetric(ours.Seconds()/cp.Seconds(), "ratio")
}

func writeSnapshot(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(buf)
	left := size - sha256.Size
	for left > 0 {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	if _, err := f.Write(h.Sum(nil)); err != nil {
		b.Fatal(err)
	}
}
