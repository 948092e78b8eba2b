package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunPeakRSS runs cmd to its end as cmd.Run does and returns the child's own peak resident set in bytes: the
// VmHWM of /proc/<pid>/status, read as the child exits. rusage's ru_maxrss cannot say it, because on Linux a
// child's maxrss starts from its parent's high-water mark at exec (a benchmark process of 400 MiB makes every
// child "use" 400 MiB). The child is traced only to be stopped at its exit, before its memory is released: the
// reading is exact, not sampled, and costs nothing while it runs (signals are passed on as they come).
func RunPeakRSS(cmd *exec.Cmd) (int64, error) {
	// ptrace requests must come from the thread that started the tracee.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	fail := func(err error) (int64, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, err
	}
	var ws syscall.WaitStatus
	// A traced child stops with SIGTRAP right after its exec.
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		return fail(fmt.Errorf("%s did not stop after exec (status %v): %v", cmd.Path, ws, err))
	}
	if err := syscall.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL); err != nil {
		return fail(fmt.Errorf("trace %s: %w", cmd.Path, err))
	}
	sig := 0 // the SIGTRAP of the exec is ours, not the child's
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return fail(fmt.Errorf("continue %s: %w", cmd.Path, err))
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return fail(fmt.Errorf("wait for %s: %w", cmd.Path, err))
		}
		if !ws.Stopped() {
			// Gone without an exit stop (cannot happen with PTRACE_O_TRACEEXIT); it is reaped already.
			return 0, fmt.Errorf("%s ended (%v) before its peak RSS could be read", cmd.Path, ws)
		}
		if ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT {
			break
		}
		sig = 0
		if ws.StopSignal() != syscall.SIGTRAP || ws.TrapCause() <= 0 {
			sig = int(ws.StopSignal()) // a signal for the child: deliver it
		}
	}
	peak, rerr := vmHWM(pid)
	if err := syscall.PtraceDetach(pid); err != nil {
		return fail(fmt.Errorf("detach from %s: %w", cmd.Path, err))
	}
	if err := cmd.Wait(); err != nil {
		return peak, err
	}
	return peak, rerr
}

// vmHWM reads the peak resident set of process pid from /proc/<pid>/status.
func vmHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmHWM %q: %w", pid, v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM (%v)", pid, sc.Err())
}
