//go:build linux

package testenv_test

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// The helper child: touches ETCD_DR_TEST_ALLOC_MIB MiB, then exits.
func TestMain(m *testing.M) {
	if s := os.Getenv("ETCD_DR_TEST_ALLOC_MIB"); s != "" {
		n, _ := strconv.Atoi(s)
		b := make([]byte, n<<20)
		for i := range b {
			if i%4096 == 0 {
				b[i] = 1
			}
		}
		os.Exit(int(b[len(b)-1]))
	}
	os.Exit(m.Run())
}

// RunPeakRSS reads each child's own peak: a small child of a big parent reads small (rusage says the parent's
// size), and a child that touches 160 MiB reads at least that.
func TestRunPeakRSS(t *testing.T) {
	ballast := make([]byte, 300<<20) // the parent's high-water mark, which rusage would charge to every child
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	small := exec.Command(os.Args[0])
	small.Env = append(os.Environ(), "ETCD_DR_TEST_ALLOC_MIB=1")
	peak, err := testenv.RunPeakRSS(small)
	if err != nil {
		t.Fatal(err)
	}
	rusage := small.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("small child: VmHWM %d MiB, rusage maxrss %d MiB", peak>>20, rusage>>20)
	// Bounds hold with and without -race (make test runs -race: its shadow memory roughly doubles a child's RSS).
	if peak > 160<<20 {
		t.Errorf("small child's peak RSS read as %d MiB, want well under the parent's 300 MiB (< 160 MiB)", peak>>20)
	}
	smallPeak := peak
	big := exec.Command(os.Args[0])
	big.Env = append(os.Environ(), "ETCD_DR_TEST_ALLOC_MIB=160")
	if peak, err = testenv.RunPeakRSS(big); err != nil {
		t.Fatal(err)
	}
	t.Logf("160 MiB child: VmHWM %d MiB", peak>>20)
	if grown := peak - smallPeak; grown < 150<<20 || grown > 400<<20 {
		t.Errorf("160 MiB child's peak RSS read as %d MiB, %d MiB above the small child's; want 150-400 MiB above", peak>>20, grown>>20)
	}
	fail := exec.Command("false")
	if _, err := testenv.RunPeakRSS(fail); err == nil {
		t.Error("a failing child reported no error")
	}
	ballast[0] = ballast[4096]
}
