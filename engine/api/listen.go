package api

import (
	"net"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// CheckListen refuses an API address reachable from other hosts when no token guards it: /v1/backup streams the
// whole keyspace, Secrets included, to whoever asks. Loopback (127.0.0.0/8, ::1, "localhost") needs no token;
// an empty host (":19999") listens on every interface and counts as the network. An empty addr (no API) passes.
// The refusal is a fault.Refused (exit 2), returned before anything starts.
func CheckListen(addr, token string) error {
	if addr == "" || token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fault.Refused("HTTP API address %q: %v (want host:port, e.g. %s)", addr, err, DefaultListen)
	}
	if IsLoopback(host) {
		return nil
	}
	return fault.Refused("HTTP API address %s is reachable from the network and no API token is set: anyone who reaches it could download every backup (Secrets included); set a token, or listen on loopback", addr)
}

// IsLoopback tells whether a listen host reaches only this machine. Names other than "localhost" may resolve
// anywhere, so they do not count.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // fe80::1%eth0: the zone does not change what it is
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer returns the credentials of an "Authorization: Bearer <token>" header. The scheme is matched in any
// case (RFC 7235 section 2.1) and the spaces after it may be several.
func bearer(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(cred, " "), true
}
