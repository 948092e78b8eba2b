package store

import (
	"fmt"
	"net/url"
	"strings"
)

// SubURL is the URL of the folder rel below the store at raw (same scheme, bucket and query): a narrower store.
// rel must be a plain relative path (no "..", not absolute).
func SubURL(raw, rel string) (string, error) {
	if _, err := ParseURL(raw); err != nil {
		return "", err
	}
	if strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("%w: folder %q is absolute; give it relative to the store", ErrBadURL, rel)
	}
	rel = strings.TrimRight(rel, "/")
	if rel == "" {
		return raw, nil
	}
	if err := CheckKey(rel); err != nil {
		return "", fmt.Errorf("%w: folder %q: %v", ErrBadURL, rel, err)
	}
	u, _ := url.Parse(raw)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + rel
	u.RawPath = ""
	return u.String(), nil
}
