package textsafe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/textsafe"
)

func TestName(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{name: "plain", in: "v2/Full-00000000-00000022-1763900060.gz", want: "v2/Full-00000000-00000022-1763900060.gz"},
		{name: "unicode kept", in: "backups/étcd-日本", want: "backups/étcd-日本"},
		{name: "title escape", in: "v2/\x1b]0;pwned\x07Full", want: `v2/\x1b]0;pwned\x07Full`},
		{name: "colour", in: "\x1b[31mred", want: `\x1b[31mred`},
		{name: "newline and tab", in: "a\nb\tc\r", want: `a\x0ab\x09c\x0d`},
		{name: "NUL and DEL", in: "a\x00b\x7f", want: `a\x00b\x7f`},
		{name: "C1 CSI", in: "a\u009b31mb", want: `a\u009b31mb`},
		{name: "bidi override", in: "txt\u202egpj.exe", want: `txt\u202egpj.exe`},
		{name: "invalid byte", in: "a\xffb", want: `a\xffb`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := textsafe.Name(c.in)
			if got != c.want {
				t.Errorf("Name(%q) = %q, want %q", c.in, got, c.want)
			}
			if strings.ContainsAny(got, "\x1b\x07\x00\u009b") {
				t.Errorf("Name(%q) = %q still holds a control character", c.in, got)
			}
		})
	}
}

func TestTextKeepsLines(t *testing.T) {
	in := "read v2/\x1b[2Jx failed:\n\tretry"
	want := "read v2/\\x1b[2Jx failed:\n\tretry"
	if got := textsafe.Text(in); got != want {
		t.Errorf("Text(%q) = %q, want %q", in, got, want)
	}
	if got := textsafe.Error(errors.New("\x1b]0;t\x07")); got != `\x1b]0;t\x07` {
		t.Errorf("Error = %q", got)
	}
	if textsafe.Error(nil) != "" {
		t.Error("Error(nil) is not empty")
	}
}

func BenchmarkNameClean(b *testing.B) {
	s := "v2/Incr-00000023-00000032-1763900120.gz"
	for i := 0; i < b.N; i++ {
		_ = textsafe.Name(s)
	}
}
