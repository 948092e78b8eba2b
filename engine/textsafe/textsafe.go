// Package textsafe makes untrusted text (object names, keys, paths and error strings that come from a store)
// safe to print on a terminal: control characters are shown escaped instead of acting. An object named
// "\x1b]0;pwned\x07" would otherwise set the terminal's title, and "\x1b[31m" colour what follows.
package textsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Name escapes every control character of s, newlines and tabs included: for one-line fields (an object key, a
// path, a member name) in text output and console views. Text without any is returned as it is.
func Name(s string) string { return escape(s, false) }

// Text escapes the control characters of a message but keeps its newlines and tabs: for error strings and
// multi-line notes.
func Text(s string) string { return escape(s, true) }

// Error is Text of err's message ("" for nil).
func Error(err error) string {
	if err == nil {
		return ""
	}
	return Text(err.Error())
}

func escape(s string, keepLines bool) string {
	if clean(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i]) // a stray byte: half of a sequence the terminal might complete
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether s has nothing to escape (the common case, without allocating).
func clean(s string, keepLines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return cleanUnicode(s[i:], keepLines)
		}
		if (c < 0x20 || c == 0x7f) && !(keepLines && (c == '\n' || c == '\t')) {
			return false
		}
	}
	return true
}

func cleanUnicode(s string, keepLines bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return false
			}
		}
		if (r < 0x20 || r == 0x7f) && !(keepLines && (r == '\n' || r == '\t')) || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune are the non-ASCII runes that steer a terminal or the reading order: C1 controls (U+009B is CSI on
// its own), line and paragraph separators, and bidirectional overrides and isolates ("Trojan source").
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	}
	return false
}

// NewWriter returns a writer that passes text on with Text applied: for a verb's whole text output, so that no
// store-derived string reaches the terminal raw. Each Write must hold whole strings (fmt and tabwriter calls do):
// a rune split across two writes is shown escaped.
func NewWriter(w io.Writer) io.Writer {
	if _, ok := w.(writer); ok {
		return w
	}
	return writer{w}
}

type writer struct{ w io.Writer }

func (t writer) Write(p []byte) (int, error) {
	s := string(p)
	if clean(s, true) {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, escape(s, true)); err != nil {
		return 0, err
	}
	return len(p), nil
}
