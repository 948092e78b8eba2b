package common

import "strings"

// ShellQuote quotes s for a POSIX shell when it needs it, so that a command line the console prints can be
// pasted as it is: a path with spaces, a URL with & or ?, a value with a quote. Plain words stay as they are.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellLine is args as one shell command line, each quoted as it needs.
func ShellLine(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}
