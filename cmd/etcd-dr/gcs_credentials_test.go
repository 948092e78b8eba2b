package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// gs:// without credentials, against a metadata server that does not answer and against an emulator that is not
// there: the real binary, in an environment with nothing but PATH and an empty HOME, exits 1 within a short
// deadline naming the store and what to set, and prints nothing but its JSON on stdout (gocloud's own opener
// printed "Warning: unable to load GCP ..." there, and the Google client retried a refused connection forever).
func TestGCSWithoutCredentialsOrEndpointExitsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	closed := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) // nothing listens there
	home := t.TempDir()
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{name: "metadata server refuses", env: []string{"GCE_METADATA_HOST=" + closed},
			want: []string{"gs://backups/etcd-main", "GCE_METADATA_HOST=" + closed, "GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST"}},
		{name: "emulator not running", env: []string{"STORAGE_EMULATOR_HOST=" + closed},
			want: []string{"gs://backups/etcd-main", "cannot reach the GCS emulator at STORAGE_EMULATOR_HOST=" + closed}},
		{name: "key file missing", env: []string{"GOOGLE_APPLICATION_CREDENTIALS=" + filepath.Join(home, "nope.json"), "GCE_METADATA_HOST=" + closed},
			want: []string{"gs://backups/etcd-main", "GOOGLE_APPLICATION_CREDENTIALS"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, verb := range [][]string{{"list"}, {"pick"}, {"validate"}} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				args := append(verb, "--store", "gs://backups/etcd-main", "-o", "json", "--non-interactive")
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "CLOUDSDK_CONFIG=" + filepath.Join(home, "gcloud")}, c.env...)
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				err := cmd.Run()
				hung := ctx.Err()
				cancel()
				require.NoError(t, hung, "%s did not end within 30 s (a hang on the endpoint): %s", verb[0], stderr.String())
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "stdout %s\nstderr %s", stdout.String(), stderr.String())
				require.Equal(t, 1, ee.ExitCode(), "stdout %s\nstderr %s", stdout.String(), stderr.String())
				var res struct {
					Error    string
					ExitCode int
				}
				require.NoError(t, json.Unmarshal([]byte(stdout.String()), &res), "stdout is exactly one JSON document: %q", stdout.String())
				for _, w := range c.want {
					require.Contains(t, res.Error, w)
				}
				require.Less(t, time.Since(start), 20*time.Second, "%s took %s", verb[0], time.Since(start))
			}
		})
	}
}
