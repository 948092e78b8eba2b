// Package deploycheck tests the production examples in deploy/: every manifest decodes strictly (an unknown or
// misspelt field fails) into its Kubernetes API type, and every etcd-dr flag they pass exists in the binary's
// --help. It is its own module so that k8s.io/api never reaches the etcd-dr binary.
package deploycheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const deploy = "../../deploy"

// strict decodes a YAML manifest into v, refusing unknown fields.
func strict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode strictly: %v", path, err)
	}
}

// etcdDR builds the etcd-dr binary once and returns the flags each verb's --help lists ("" = the root).
func etcdDR(t *testing.T) func(verb string) map[string]bool {
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/etcd-dr")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build etcd-dr: %v\n%s", err, out)
	}
	flagRE := regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z0-9-]+)`)
	return func(verb string) map[string]bool {
		args := []string{"--help"}
		if verb != "" {
			args = []string{verb, "--help"}
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("etcd-dr %v: %v\n%s", args, err, out)
		}
		flags := map[string]bool{}
		for _, m := range flagRE.FindAllStringSubmatch(string(out), -1) {
			flags[m[1]] = true
		}
		return flags
	}
}

// checkArgs fails on any --flag in args that the verb does not know (the verb is args[0] unless it is a flag).
func checkArgs(t *testing.T, where string, help func(string) map[string]bool, args []string) {
	t.Helper()
	verb := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	known := help(verb)
	if len(known) < 5 {
		t.Fatalf("etcd-dr %s --help lists only %d flags", verb, len(known))
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(a, "=")
		if !known[name] {
			t.Errorf("%s: etcd-dr %s has no flag %s", where, verb, name)
		}
	}
}

func etcdDRContainer(t *testing.T, where string, cs []corev1.Container) corev1.Container {
	for _, c := range cs {
		if strings.Contains(c.Image, "etcd-dr") {
			return c
		}
	}
	t.Fatalf("%s has no etcd-dr container", where)
	return corev1.Container{}
}

func TestKubernetesManifests(t *testing.T) {
	help := etcdDR(t)

	var sts appsv1.StatefulSet
	path := filepath.Join(deploy, "kubernetes", "etcd-statefulset.yaml")
	strict(t, path, &sts)
	if sts.Kind != "StatefulSet" || sts.APIVersion != "apps/v1" {
		t.Fatalf("%s is a %s/%s", path, sts.APIVersion, sts.Kind)
	}
	side := etcdDRContainer(t, path, sts.Spec.Template.Spec.Containers)
	checkArgs(t, path, help, side.Args)
	args := strings.Join(side.Args, " ")
	for _, want := range []string{"--daemon", "--listen=127.0.0.1:", "--spool-dir=", "--metrics-listen="} {
		if !strings.Contains(args, want) {
			t.Errorf("%s: the sidecar lacks %s", path, want)
		}
	}
	spool := false
	for _, v := range sts.Spec.Template.Spec.Volumes {
		spool = spool || (v.Name == "spool" && v.EmptyDir != nil)
	}
	if !spool {
		t.Errorf("%s: the spool is not an emptyDir", path)
	}
	if len(side.EnvFrom) == 0 || side.EnvFrom[0].SecretRef == nil {
		t.Errorf("%s: store credentials do not come from a Secret", path)
	}

	var job batchv1.Job
	path = filepath.Join(deploy, "kubernetes", "restore-job.yaml")
	strict(t, path, &job)
	if job.Kind != "Job" {
		t.Fatalf("%s is a %s", path, job.Kind)
	}
	c := etcdDRContainer(t, path, job.Spec.Template.Spec.Containers)
	checkArgs(t, path, help, c.Args)
	if c.Args[0] != "restore" || !strings.Contains(strings.Join(c.Args, " "), "--non-interactive") {
		t.Errorf("%s: the job does not run a headless restore: %v", path, c.Args)
	}
}

func TestSystemdUnit(t *testing.T) {
	help := etcdDR(t)
	path := filepath.Join(deploy, "systemd", "etcd-dr.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var exec0 string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec0 = v
		}
	}
	fields := strings.Fields(exec0)
	if len(fields) < 3 || filepath.Base(fields[0]) != "etcd-dr" {
		t.Fatalf("%s: ExecStart does not run etcd-dr: %q", path, exec0)
	}
	checkArgs(t, path, help, fields[1:])
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not installed: the unit's syntax is not verified by systemd here")
		return
	}
	// verify resolves ExecStart's binary: give it a stand-in at a path of our own.
	dir := t.TempDir()
	unit := strings.Replace(string(b), fields[0], filepath.Join(dir, "etcd-dr"), 1)
	if err := os.WriteFile(filepath.Join(dir, "etcd-dr"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(dir, "etcd-dr.service")
	if err := os.WriteFile(up, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", up).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
	fmt.Fprint(os.Stderr, string(out))
}

// The handshake pod: etcd starts through the bootstrap script of the ConfigMap, which speaks the initialization
// handshake to the sidecar; the sidecar has --data-dir on the volume etcd uses and the same member settings.
func TestKubernetesInitializationManifests(t *testing.T) {
	help := etcdDR(t)

	var cm corev1.ConfigMap
	cmPath := filepath.Join(deploy, "kubernetes", "etcd-bootstrap-configmap.yaml")
	strict(t, cmPath, &cm)
	script := cm.Data["bootstrap.sh"]
	for _, want := range []string{"/initialization/status", "/initialization/start", "New)", "Successful)", "exec etcd \"$@\""} {
		if !strings.Contains(script, want) {
			t.Errorf("%s: the bootstrap script lacks %q", cmPath, want)
		}
	}

	var sts appsv1.StatefulSet
	path := filepath.Join(deploy, "kubernetes", "etcd-initialized-statefulset.yaml")
	strict(t, path, &sts)
	if sts.Kind != "StatefulSet" || sts.APIVersion != "apps/v1" {
		t.Fatalf("%s is a %s/%s", path, sts.APIVersion, sts.Kind)
	}
	pod := sts.Spec.Template.Spec
	side := etcdDRContainer(t, path, pod.Containers)
	checkArgs(t, path, help, side.Args)
	var etcd corev1.Container
	for _, c := range pod.Containers {
		if c.Name == "etcd" {
			etcd = c
		}
	}
	if len(etcd.Command) < 2 || etcd.Command[1] != "/bootstrap/bootstrap.sh" {
		t.Fatalf("%s: etcd does not start through the bootstrap script: %v", path, etcd.Command)
	}
	flag := func(args []string, name string) string {
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
		return ""
	}
	for _, f := range []string{"--data-dir", "--initial-cluster", "--initial-advertise-peer-urls", "--name"} {
		if got, want := flag(side.Args, f), flag(etcd.Command, f); got == "" || got != want {
			t.Errorf("%s: the sidecar's %s is %q, etcd's %q", path, f, got, want)
		}
	}
	mounted := func(c corev1.Container, vol, at string) bool {
		for _, m := range c.VolumeMounts {
			if m.Name == vol && m.MountPath == at {
				return true
			}
		}
		return false
	}
	dataDir := flag(side.Args, "--data-dir")
	if !mounted(side, "data", dataDir) || !mounted(etcd, "data", dataDir) {
		t.Errorf("%s: the data volume is not mounted at %s in both containers", path, dataDir)
	}
	if !mounted(etcd, "bootstrap", "/bootstrap") {
		t.Errorf("%s: the bootstrap ConfigMap is not mounted at /bootstrap", path)
	}
	found := false
	for _, v := range pod.Volumes {
		found = found || (v.Name == "bootstrap" && v.ConfigMap != nil && v.ConfigMap.Name == cm.Name)
	}
	if !found {
		t.Errorf("%s: no bootstrap volume from ConfigMap %s", path, cm.Name)
	}
	if listen := flag(side.Args, "--listen"); !strings.HasPrefix(listen, "127.0.0.1:") || !strings.Contains(script, "http://"+listen) {
		t.Errorf("%s: the script does not reach the sidecar's loopback --listen %q", path, listen)
	}
}
