package store_test

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/store"
)

var plainSecret = regexp.MustCompile(`^[A-Za-z0-9]{8,}$`)

// FuzzParseURL feeds store URLs to ParseURL and Redact. A failure is ErrBadURL; a parsed URL has a known scheme,
// a prefix without slashes at its ends, and a bucket for the cloud schemes; redacting does not move the URL
// elsewhere; and neither the redacted URL nor the error shows a password or a credential-like parameter.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"file:///var/etcd-backup", "file:///var/etcd-backup/v1/etcd-cluster/", "file://localhost/x", "file://host/x",
		"s3://bucket/etcd-main?region=eu-west-1&endpoint=http://127.0.0.1:9000&use_path_style=true",
		"s3://AKIAEXAMPLE:wJalrXUtnFEMIK7MDENG@bucket/p", "s3://bucket/p?secret_access_key=wJalrXUtnFEMIK7MDENG",
		"azblob://container/prefix?sas_token=sv2021abcdEFGH", "gs://b/p/../q", "gs://", "mem://x/y", "ftp://x", "bucket/prefix", "",
		"s3://b/p?password=hunter2hunter2;x=1", "s3://b/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		loc, err := store.ParseURL(raw)
		red := store.Redact(raw)
		var secrets []string
		if u, perr := url.Parse(raw); perr == nil {
			if p, ok := u.User.Password(); ok {
				secrets = append(secrets, p)
			}
			if u.User != nil {
				secrets = append(secrets, u.User.Username())
			}
			for k, vs := range u.Query() {
				n := strings.ToLower(k)
				if strings.Contains(n, "secret") || strings.Contains(n, "token") || strings.Contains(n, "password") || strings.Contains(n, "sig") {
					secrets = append(secrets, vs...)
				}
			}
		}
		for _, s := range secrets {
			if !plainSecret.MatchString(s) || strings.Count(raw, s) != 1 || s == "REDACTED" {
				continue // too short or common to tell apart from the rest of the URL
			}
			if strings.Contains(red, s) {
				t.Fatalf("Redact(%q) = %q shows %q", raw, red, s)
			}
			if err != nil && strings.Contains(err.Error(), s) {
				t.Fatalf("error for %q shows %q: %v", raw, s, err)
			}
		}
		if err != nil {
			if !errors.Is(err, store.ErrBadURL) {
				t.Fatalf("%q: error is not ErrBadURL: %v", raw, err)
			}
			return
		}
		known := false
		for _, s := range store.Schemes {
			known = known || s == loc.Scheme
		}
		if !known {
			t.Fatalf("%q: scheme %q", raw, loc.Scheme)
		}
		if strings.HasPrefix(loc.Prefix, "/") || strings.HasSuffix(loc.Prefix, "/") {
			t.Fatalf("%q: prefix %q", raw, loc.Prefix)
		}
		if loc.Scheme != "mem" && loc.Bucket == "" {
			t.Fatalf("%q: no bucket", raw)
		}
		again, err := store.ParseURL(red)
		if err != nil {
			t.Fatalf("redacted %q of %q does not parse: %v", red, raw, err)
		}
		if again.Scheme != loc.Scheme || again.Bucket != loc.Bucket || again.Prefix != loc.Prefix {
			t.Fatalf("redacting %q moved it: %+v -> %+v", raw, loc, again)
		}
	})
}
