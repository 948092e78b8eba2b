package restore

import (
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/tui/common"
)

// The command line the console prints is redacted as the CLI prints a URL and quoted so that it pastes.
func TestCLICommandRedactedAndQuoted(t *testing.T) {
	src := "s3://bucket/etcd?endpoint=http://127.0.0.1:9000&region=x&X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIAEXAMPLE"
	got := CLICommand(src, 72, common.RestoreRequest{DataDir: "/var/lib/etcd restored", Name: "m1"})
	for _, secret := range []string{"deadbeefcafe", "AKIAEXAMPLE"} {
		if strings.Contains(got, secret) {
			t.Fatalf("%q shows %s", got, secret)
		}
	}
	for _, want := range []string{"--store 's3://bucket/etcd?", "REDACTED", "--data-dir '/var/lib/etcd restored'", "--name m1", "--revision 72"} {
		if !strings.Contains(got, want) {
			t.Fatalf("%q lacks %q", got, want)
		}
	}
	if q := common.ShellQuote("it's"); q != `'it'\''s'` {
		t.Fatalf("quote %s", q)
	}
}
