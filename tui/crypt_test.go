package tui

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/store"
	objectpage "github.com/etcd-dr/etcd-dr/tui/pages/object"
)

// An encrypted (.age) full snapshot: refused with what to do without an identity, verified with one.
func TestEncryptedObject(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	url := "mem://crypt-test"
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := crypt.NewEncrypter([]string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(context.Background(), "v2/Full-00000000-00000010-1763900060.age", store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ew, err := enc(w)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 4096)
	sum := sha256.Sum256(body)
	ew.Write(body)
	ew.Write(sum[:])
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("without an identity", func(t *testing.T) {
		m := newModel(t, false, url)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "enter", "c")...)
		topIs[*objectpage.Page](t, m)
		mustContain(t, m, "Encrypted     yes", "not checked: see below", "Cannot read this object", "identity FILE")
	})
	t.Run("with an identity", func(t *testing.T) {
		dec, err := crypt.NewDecrypter(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		nc := true
		m := New(context.Background(), Config{Stores: []string{url}, Now: func() time.Time { return fixedNow }, NoColor: &nc, Refresh: -1, Decrypt: dec})
		t.Cleanup(m.cancel)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "enter", "c")...)
		mustContain(t, m, "✓ verified", "4.0 KiB of content")
	})
}
