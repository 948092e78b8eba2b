package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/store"
	objectpage "github.com/etcd-dr/etcd-dr/tui/pages/object"
)

// Object names and problems from a store are data: the console shows their control characters escaped, never
// as terminal sequences (a title change, colours).
func TestStoreTextIsEscaped(t *testing.T) {
	url := "mem://escape-test"
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"v2/Full-00000000-00000010-1763900060", "v2/\x1b]0;pwned\x07evil", "v2/\x1b[31mRED"} {
		w, err := st.NewWriter(context.Background(), key, store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("not a snapshot")); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	m := newModel(t, false, url)
	start(m, 120, 40)
	drive(m, keys("enter")...)
	assertNoInjection(t, screen(m))
	mustContain(t, m, `\x1b]0;pwned\x07evil`)
	drive(m, keys("down", "enter")...)
	topIs[*objectpage.Page](t, m)
	assertNoInjection(t, screen(m))
}

func assertNoInjection(t *testing.T, s string) {
	t.Helper()
	for _, raw := range []string{"\x1b]0;pwned", "\x07", "\x1b[31mRED"} {
		if strings.Contains(s, raw) {
			t.Fatalf("screen holds the raw sequence %q:\n%s", raw, s)
		}
	}
}
