// Command screenshots regenerates the PNGs in screenshots/ from real runs of the etcd-dr binary: it drives the
// TUI in a detached tmux pane by keystrokes, captures each screen with its colours (tmux capture-pane -e) and
// draws the cells with DejaVu Sans Mono. Run it with "make screenshots".
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"image/png"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	width  = 80
	height = 24
	socket = "etcd-dr-screenshots"
)

func main() {
	bin := flag.String("bin", "bin/etcd-dr", "etcd-dr binary")
	out := flag.String("out", "screenshots", "folder for the PNGs")
	testdata := flag.String("testdata", "testdata", "the repo's testdata folder (fixture stores)")
	fontDir := flag.String("fonts", "/usr/share/fonts/truetype/dejavu", "folder with DejaVuSansMono.ttf and DejaVuSansMono-Bold.ttf")
	flag.Parse()
	r, err := newRenderer(filepath.Join(*fontDir, "DejaVuSansMono.ttf"), filepath.Join(*fontDir, "DejaVuSansMono-Bold.ttf"), 15)
	if err != nil {
		log.Fatalf("font: %v (apt-get install fonts-dejavu-core)", err)
	}
	td, _ := filepath.Abs(*testdata)
	binAbs, _ := filepath.Abs(*bin)
	// A fixed folder, so that paths on the screens do not change from one run to the next.
	work := filepath.Join(os.TempDir(), "etcd-dr-screens")
	if err := os.RemoveAll(work); err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	for _, s := range []string{"etcdbr-v2", "operator", "etcdbr-v1"} {
		if err := copyTree(filepath.Join(td, "stores", s), filepath.Join(work, "backups", s)); err != nil {
			log.Fatal(err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := writeHeartbeats(filepath.Join(work, "backups", "etcdbr-v2", "members")); err != nil {
		log.Fatal(err)
	}
	stores := []string{
		"file://" + filepath.Join(work, "backups/etcdbr-v2"),
		"file://" + filepath.Join(work, "backups/operator/v1/etcd-cluster"),
		"file://" + filepath.Join(work, "backups/etcdbr-v1"),
		"file:///var/etcd-backup/v1/missing-cluster",
	}
	argv := []string{binAbs}
	for _, s := range stores {
		argv = append(argv, "--store", s)
	}
	t := start(argv)
	defer t.close()
	shot := func(name string) {
		grid := parse(t.capture(true), width, height)
		img := r.render(grid)
		f, err := os.Create(filepath.Join(*out, name+".png"))
		if err != nil {
			log.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			log.Fatal(err)
		}
		f.Close()
		fmt.Println("wrote", filepath.Join(*out, name+".png"))
	}

	t.wait("etcdbr-v1", "operator", "Restorable", "see below")
	shot("stores")
	t.keys("Down", "Down", "Down")
	t.wait("What to do")
	shot("stores-unreachable")
	t.keys("Up", "Up", "Up", "m")
	t.wait("STALE")
	shot("members")
	t.keys("Escape", "Enter")
	t.wait("GAP revisions 104-113")
	shot("catalog")
	t.keys("/")
	t.text("zlib")
	t.wait("1 found")
	shot("catalog-filter")
	t.keys("Escape", "Down", "Down", "Enter", "c")
	t.wait("verified")
	shot("object")
	t.keys("Escape", "?")
	t.wait("Moving around")
	shot("help")
	t.keys("Escape", "G", "v", "Enter")
	t.wait("no problems found")
	shot("validate")
	t.keys("Escape", "R")
	t.wait("mark compacted")
	t.text(filepath.Join(work, "restored"))
	t.keys("Tab")
	t.text("m1")
	t.keys("Enter")
	t.wait("Type restore to confirm")
	t.text("resto")
	t.wait("Type restore to confirm: resto")
	shot("restore-confirm")
	t.text("re")
	t.keys("Enter")
	t.wait("Start the restored member")
	shot("restore-done")
	t.keys("Escape", "Escape", "Down", "p")
	t.text("3.5.0")
	t.keys("Enter")
	t.wait("Refused (2)")
	shot("pick")
	t.keys("d")
	t.wait("enter starts")
	t.keys("C-u")
	t.text(filepath.Join(work, "snapshot.db"))
	t.keys("Enter")
	t.wait("Downloaded revision 15")
	shot("download")
	t.resize(56, 12)
	t.wait("too small")
	grid := parse(t.capture(true), 56, 12)
	saveGrid(r, grid, filepath.Join(*out, "too-small.png"))
	t.resize(width, height)
	t.keys("q")
	t.close()
	fleetShots(binAbs, td, work, shot)
	wizardShots(binAbs, work, shot)
}

// wizardShots opens the Copy wizard on the etcd-backup-restore store (the newest chain only, planned then
// copied to another folder) and the Compact wizard at its typed confirmation, left without writing anything.
func wizardShots(bin, work string, shot func(string)) {
	t := start([]string{bin, "--store", "file://" + filepath.Join(work, "backups/etcdbr-v2")})
	defer t.close()
	t.wait("etcdbr-v2", "Restorable")
	t.keys("Enter")
	t.wait("GAP revisions 104-113")
	t.keys("y")
	t.wait("max backups")
	t.text("file://" + filepath.Join(work, "copy-target"))
	t.keys("Tab")
	t.text("1")
	t.keys("Enter")
	t.wait("Will copy:", "enter copies")
	shot("copy-plan")
	t.keys("Enter")
	t.wait("Copied")
	shot("copy-done")
	t.keys("Escape")
	t.wait("GAP revisions 104-113")
	t.keys("G", "C")
	t.wait("enter reviews")
	t.keys("Enter")
	t.text("etcdbr")
	t.wait("Type etcdbr-v2 to confirm")
	shot("compact-confirm")
	t.keys("Escape", "Escape", "q")
}

// fleetShots opens a store root of four clusters (a seed bucket in miniature) on the Fleet screen, then starts
// a download of a big full snapshot of one of them and shoots it mid-progress before cancelling it.
func fleetShots(bin, td, work string, shot func(string)) {
	root := filepath.Join(work, "seed")
	for dst, src := range map[string]string{
		"shoot--garden--prod/etcd-main":   "etcdbr-v2",
		"shoot--garden--prod/etcd-events": "etcdbr-v1",
		"kops-dev":                        "operator",
	} {
		if err := copyTree(filepath.Join(td, "stores", src), filepath.Join(root, dst)); err != nil {
			log.Fatal(err)
		}
	}
	if err := writeHeartbeats(filepath.Join(root, "shoot--garden--prod/etcd-events", "members")); err != nil {
		log.Fatal(err)
	}
	// A fresh 1 GiB full snapshot, so that the download lasts long enough to be shot: the fixture's snapshot
	// at revision 93 grown with free space (zeros past bbolt's last page, a hole in the file: no disk until
	// downloaded) and a new sha256 trailer, so that the pick's check of its revision and the download's
	// verification both pass. The download is cancelled, which removes its partial file.
	big := filepath.Join(root, "shoot--garden--big/etcd-main/v2", fmt.Sprintf("Full-00000000-00000093-%d", time.Now().Unix()))
	if err := bigSnapshot(filepath.Join(td, "stores/etcdbr-v2/v2/Full-00000000-00000093-1763900420"), big, 1<<30); err != nil {
		log.Fatal(err)
	}
	t := start([]string{bin, "--store", "file://" + root, "--max-age", "24h"})
	defer t.close()
	t.wait("Fleet", "4 clusters", "garden--big/etcd-main")
	shot("fleet")
	t.keys("/")
	t.text("big")
	t.wait("1 of 4")
	t.keys("Enter", "Enter")
	t.wait("cluster shoot--garden--big", "restorable to 93")
	t.keys("d")
	t.wait("enter starts")
	t.keys("C-u")
	t.text(filepath.Join(work, "big.db"))
	t.keys("Enter")
	t.wait("GiB", "cancel")
	t.waitGone(" 0%") // mid-progress, not at its start
	shot("download-progress")
	t.keys("Escape")
	t.wait("cancelled")
	t.keys("q")
}

func saveGrid(r *renderer, grid [][]cell, path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, r.render(grid)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", path)
}

// term is the binary in a detached tmux pane on a private tmux server.
type term struct{}

func tmux(args ...string) []byte {
	out, err := exec.Command("tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		log.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func start(argv []string) term {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + a + "'"
	}
	tmux("new-session", "-d", "-s", "shots", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", strings.Join(quoted, " "))
	return term{}
}

func (term) close() { _ = exec.Command("tmux", "-L", socket, "kill-server").Run() }

func (term) capture(colors bool) string {
	args := []string{"capture-pane", "-p", "-t", "shots"}
	if colors {
		args = append(args, "-e")
	}
	return string(tmux(args...))
}

func (t term) wait(parts ...string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := t.capture(false)
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(s, p)
		}
		if ok {
			time.Sleep(100 * time.Millisecond) // let the frame settle
			return
		}
		if time.Now().After(deadline) {
			t.close()
			log.Fatalf("the screen never showed %q:\n%s", parts, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends tmux key names one at a time, with a pause, so that a lone Escape is not read as the start of the
// next key's escape sequence.
// waitGone polls the screen until part is no longer on it.
func (t term) waitGone(part string) {
	deadline := time.Now().Add(15 * time.Second)
	for strings.Contains(t.capture(false), part) {
		if time.Now().After(deadline) {
			log.Fatalf("the screen kept showing %q:\n%s", part, t.capture(false))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (term) keys(k ...string) {
	for _, key := range k {
		tmux("send-keys", "-t", "shots", key)
		time.Sleep(60 * time.Millisecond)
	}
}

func (term) text(s string) { tmux("send-keys", "-t", "shots", "-l", s) }

func (term) resize(w, h int) {
	tmux("resize-window", "-t", "shots", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h))
}

// copyTree copies the files below src to dst, keeping modification times (the operator layout's backup times).
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, fi.ModTime(), fi.ModTime())
	})
}

// writeHeartbeats leaves what three etcd-dr daemons would: a leader, a follower and one that stopped writing
// (engine/heartbeat's JSON, written by hand: this tool is a module of its own).
func writeHeartbeats(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	now := time.Now().UTC()
	beats := []struct {
		name, role, why string
		rev             int64
		snapAgo, ago    time.Duration
	}{
		{"etcd-0", "Leader", "", 123, 4 * time.Minute, 12 * time.Second},
		{"etcd-1", "Follower", "", 0, 0, 25 * time.Second},
		{"etcd-2", "Unknown", "own etcd member unreachable", 0, 0, 3 * time.Hour},
	}
	for _, b := range beats {
		snap := ""
		if b.rev > 0 {
			snap = fmt.Sprintf(`"lastSnapshotRevision": %d, "lastSnapshotTime": %q,`, b.rev, now.Add(-b.snapAgo).Format(time.RFC3339))
		}
		why := ""
		if b.why != "" {
			why = fmt.Sprintf(`, "why": %q`, b.why)
		}
		js := fmt.Sprintf(`{"name": %q, "role": %q, %s "etcdDRVersion": "demo", "time": %q, "periodSeconds": 30%s}`+"\n",
			b.name, b.role, snap, now.Add(-b.ago).Format(time.RFC3339), why)
		if err := os.WriteFile(filepath.Join(dir, b.name+".json"), []byte(js), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// bigSnapshot writes to dst the etcd snapshot src (db + sha256 trailer) grown to size bytes of db: zeros after
// the db's pages (a sparse hole), then the sha256 of the whole grown db.
func bigSnapshot(src, dst string, size int64) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	db := raw[:len(raw)-sha256.Size]
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	h.Write(db)
	if _, err := io.CopyN(h, zeros{}, size-int64(len(db))); err != nil {
		return err
	}
	if _, err := f.Write(db); err != nil {
		return err
	}
	if _, err := f.WriteAt(h.Sum(nil), size); err != nil {
		return err
	}
	return f.Close()
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
