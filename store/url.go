package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
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
		return Location{}, fmt.Errorf("%w %q: %s", ErrBadURL, Redact(raw), RedactText(err.Error()))
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

// secretParam reports whether a query parameter may carry a credential and must never be shown: SAS and presigned
// URL signatures (sig, X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token), tokens, keys, passwords.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"key", "secret", "token", "sig", "password", "passwd", "credential", "sas", "auth"} {
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
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil && u.RawQuery != "" {
		u.RawQuery = redactParams(u.RawQuery) // malformed query: mask by pattern rather than print it
		return u.String()
	}
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

var (
	// urlInText finds URLs inside a message (SDK errors quote the request URL, SAS and all).
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
	// paramInText finds credential parameters outside a URL: a SAS token or a presigned query on its own.
	paramInText = regexp.MustCompile(`(?i)\b(sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|sas|sastoken|token|api_token|password|passwd|secret|accountkey|access_key|secret_key|session_token)=([^&\s"']+)`)
)

// secretEnv are the environment variables whose values are credentials: never shown, wherever they turn up.
var secretEnv = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
	"AZURE_STORAGE_CONNECTION_STRING", "AZURE_CLIENT_SECRET", "ETCDCTL_PASSWORD", "ETCD_DR_API_TOKEN"}

// RedactText masks every credential in a message, log line or console line: URLs (user info and credential
// parameters), credential parameters outside URLs, the values of the credential environment variables, and the
// extra secrets given (e.g. a password passed as a flag). It is the one redaction every error path uses.
func RedactText(msg string, secrets ...string) string {
	for _, env := range secretEnv {
		if v := os.Getenv(env); len(v) >= 4 {
			secrets = append(secrets, v)
		}
	}
	if u := os.Getenv("ETCDCTL_USER"); strings.Contains(u, ":") {
		secrets = append(secrets, u[strings.Index(u, ":")+1:])
	}
	for _, v := range secrets {
		if len(v) < 4 { // too short to tell from ordinary text
			continue
		}
		msg = strings.ReplaceAll(msg, v, "REDACTED")
		if e := url.QueryEscape(v); e != v { // as an SDK puts it into a request URL
			msg = strings.ReplaceAll(msg, e, "REDACTED")
		}
	}
	if strings.Contains(msg, "://") {
		msg = urlInText.ReplaceAllStringFunc(msg, func(u string) string {
			// A URL quoted in a sentence may end in punctuation that is not part of it.
			trail := len(u) - len(strings.TrimRight(u, ".,;:)]}"))
			core := u[:len(u)-trail]
			p, err := url.Parse(core)
			switch {
			case err != nil:
				core = redactParams(core)
			case p.User != nil || hasSecretParam(p.RawQuery):
				core = Redact(core)
			} // else left as written: Redact would also normalise it ("file://" to "file:")
			return core + u[len(u)-trail:]
		})
	}
	return redactParams(msg)
}

func hasSecretParam(rawQuery string) bool {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return true
	}
	for k := range q {
		if secretParam(k) {
			return true
		}
	}
	return false
}

func redactParams(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	return paramInText.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasSuffix(m, "=REDACTED") {
			return m
		}
		return m[:strings.Index(m, "=")+1] + "REDACTED"
	})
}
