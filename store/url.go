package store

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Schemes lists the store URL schemes etcd-dr opens, in the order help texts show them.
var Schemes = []string{"file", "s3", "gs", "azblob", "mem"}

// ErrBadURL marks a store URL that cannot be used as written (usage error, nothing was opened).
var ErrBadURL = errors.New("bad store URL")

// Location is a parsed store URL: which backend, which bucket, which key prefix below it.
type Location struct {
	Scheme string
	// Bucket is the bucket or container; for file:// the directory.
	Bucket string
	// Prefix is the key prefix inside the bucket, without leading or trailing "/".
	Prefix string
	// Query holds the backend parameters (endpoint, region, use_path_style, ...).
	Query url.Values
}

// ParseURL checks a store URL and splits it into a Location. It does not touch the network.
func ParseURL(raw string) (Location, error) {
	if strings.TrimSpace(raw) == "" {
		return Location{}, fmt.Errorf("%w: empty; pass --store (or set ETCD_DR_STORE), e.g. file:///var/etcd-backup or s3://bucket/prefix", ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("%w %q: %v", ErrBadURL, Redact(raw), err)
	}
	loc := Location{Scheme: u.Scheme, Query: u.Query()}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("%w %q: file URLs need an absolute path, e.g. file:///var/etcd-backup (three slashes)", ErrBadURL, Redact(raw))
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return Location{}, fmt.Errorf("%w %q: file URLs need an absolute path, e.g. file:///var/etcd-backup", ErrBadURL, Redact(raw))
		}
		loc.Bucket = strings.TrimRight(u.Path, "/")
		if loc.Bucket == "" {
			loc.Bucket = "/"
		}
	case "s3", "gs", "azblob":
		if u.Host == "" {
			return Location{}, fmt.Errorf("%w %q: missing bucket name, e.g. %s://bucket/prefix", ErrBadURL, Redact(raw), u.Scheme)
		}
		loc.Bucket = u.Host
		loc.Prefix = strings.Trim(u.Path, "/")
	case "mem":
		loc.Bucket = u.Host
		loc.Prefix = strings.Trim(u.Path, "/")
	case "":
		return Location{}, fmt.Errorf("%w %q: no scheme; supported schemes: %s", ErrBadURL, Redact(raw), schemeList())
	default:
		return Location{}, fmt.Errorf("%w %q: unsupported scheme %q; supported schemes: %s", ErrBadURL, Redact(raw), u.Scheme, schemeList())
	}
	if p := loc.Prefix; p != "" {
		if err := CheckKey(p); err != nil {
			return Location{}, fmt.Errorf("%w %q: prefix: %v", ErrBadURL, Redact(raw), err)
		}
	}
	return loc, nil
}

func schemeList() string {
	parts := make([]string, len(Schemes))
	for i, s := range Schemes {
		parts[i] = s + "://"
	}
	return strings.Join(parts, ", ")
}

// secretParam reports whether a query parameter may carry a credential and must never be shown.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"key", "secret", "token", "sig", "password", "credential", "sas"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Redact returns the URL with user info and credential-like query parameters masked, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	q := u.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	changed := false
	for _, k := range names {
		if secretParam(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
