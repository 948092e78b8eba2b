package testenv

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Azurite's well-known development account (public, documented by Microsoft; not a secret).
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azure is an Azurite blob server (from npm, built into .tools by make tools).
type Azure struct {
	Endpoint string // http://127.0.0.1:PORT/devstoreaccount1
	addr     string
	proc     *proc
}

// StartAzure starts azurite-blob on a free port with its data in a t.TempDir(), and stops it at cleanup.
func StartAzure(t testing.TB) *Azure {
	t.Helper()
	bin := Binary(t, "azurite-blob")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "azurite.log")
	a := &Azure{}
	// Any HTTP answer (403 without a signature) means it listens.
	a.proc, a.addr = startHTTPServer(t, "azurite", bin, logPath, "/"+azuriteAccount+"?comp=list", func(port int, host string) []string {
		return []string{"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port),
			"--location", filepath.Join(dir, "data"), "--silent", "--skipApiVersionCheck", "--loose"}
	})
	a.Endpoint = "http://" + a.addr + "/" + azuriteAccount
	return a
}

// Env points gocloud's azureblob opener at the development account for the rest of the test.
func (a *Azure) Env(t testing.TB) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", azuriteAccount)
	t.Setenv("AZURE_STORAGE_KEY", azuriteKey)
}

// Client is an SDK client of this server (for what a test sets up that etcd-dr never writes, e.g. blob tags).
func (a *Azure) Client(t testing.TB) *azblob.Client {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := azblob.NewClientWithSharedKeyCredential(a.Endpoint+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// CreateContainer makes a container; the test fails if it cannot.
func (a *Azure) CreateContainer(t testing.TB, name string) {
	t.Helper()
	cli := a.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
}

// URL is the store URL for a container and prefix on this server.
func (a *Azure) URL(container, prefix string) string {
	q := url.Values{}
	q.Set("localemu", "true")
	q.Set("domain", a.addr)
	q.Set("protocol", "http")
	return "azblob://" + container + "/" + strings.Trim(prefix, "/") + "?" + q.Encode()
}
