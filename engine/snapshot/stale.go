package snapshot

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// removeStaleCopies deletes plain snapshot copies left in dir by etcd-dr processes that no longer run (killed
// in the middle of a full snapshot): each is as big as the db, and a sidecar's scratch volume is small. A copy
// whose process still runs, or whose owner cannot be told, is left alone.
func removeStaleCopies(dir string, log *slog.Logger) {
	if dir == "" {
		dir = os.TempDir()
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "etcd-dr-full-*-*.db"))
	for _, m := range matches {
		parts := strings.SplitN(strings.TrimPrefix(filepath.Base(m), "etcd-dr-full-"), "-", 2)
		pid, err := strconv.Atoi(parts[0])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // alive, or not ours to judge
		}
		if err := os.Remove(m); err == nil {
			log.Info("removed the plain copy a killed snapshot left behind", "path", m)
		}
	}
}
