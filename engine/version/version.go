// Package version holds the one rule for which etcd versions a backup restores into.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an etcd major.minor (patch and pre-release are ignored by the restore rule).
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Parse reads "3.6", "3.6.4", "v3.6.4" or "3.6.0-rc.1".
func Parse(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.SplitN(t, ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("etcd version %q: want X.Y or X.Y.Z, e.g. 3.6.4", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil || maj < 0 || min < 0 {
		return Version{}, fmt.Errorf("etcd version %q: want X.Y or X.Y.Z, e.g. 3.6.4", s)
	}
	return Version{maj, min}, nil
}

// Restores reports whether a backup taken on etcd backup restores into etcd target, and if not, why.
// The rule: a backup of X.Y restores into X.Y and X.(Y+1); the patch level never matters.
func Restores(backup, target Version) (bool, string) {
	if backup.Major == target.Major && (target.Minor == backup.Minor || target.Minor == backup.Minor+1) {
		return true, ""
	}
	return false, fmt.Sprintf("a backup of etcd %s restores into etcd %s and %d.%d, not %s",
		backup, backup, backup.Major, backup.Minor+1, target)
}
