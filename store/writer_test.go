package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/store"
)

// azureUnreachable points the azblob opener at a port nothing listens on, with Azurite's public development
// account (as testenv.Azure.Env sets it).
func azureUnreachable(t *testing.T) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
	t.Setenv("AZURE_STORAGE_KEY", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
	t.Setenv("AZURE_STORAGE_DOMAIN", "127.0.0.1:1")
	t.Setenv("AZURE_STORAGE_PROTOCOL", "http")
	t.Setenv("AZURE_STORAGE_IS_LOCAL_EMULATOR", "true")
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "")
}

// A commit to an unreachable Azure store fails with an error naming the store and the object; gocloud v0.47's
// azureblob writer used to panic on a nil pipe in Close once its upload had failed (issue 12 item 10).
func TestAzureUnreachableCommitFailsWithoutPanic(t *testing.T) {
	azureUnreachable(t)
	st, err := store.Open(t.Context(), "azblob://backups/etcd-main")
	require.NoError(t, err)
	defer st.Close()
	for _, size := range []int{0, 10, 600, 5 << 20} { // empty, below and above the content sniffing, a whole block
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second) // the SDK retries for longer
			defer cancel()
			w, err := st.NewWriter(ctx, "members/m1.json", store.WriteOptions{ContentType: "application/json"})
			require.NoError(t, err)
			if _, err := w.Write(make([]byte, size)); err != nil {
				w.Abort()
				require.Contains(t, err.Error(), "azblob://backups/etcd-main")
				return
			}
			err = w.Commit()
			require.Error(t, err)
			require.Contains(t, err.Error(), "azblob://backups/etcd-main object members/m1.json")
			t.Log(err)
		})
	}
}

// Abort after a failed upload leaves nothing and does not panic either.
func TestAzureUnreachableAbort(t *testing.T) {
	azureUnreachable(t)
	st, err := store.Open(t.Context(), "azblob://backups/etcd-main")
	require.NoError(t, err)
	defer st.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	w, err := st.NewWriter(ctx, "full", store.WriteOptions{})
	require.NoError(t, err)
	_, _ = w.Write(make([]byte, 1000))
	<-ctx.Done()
	w.Abort()
	require.Error(t, w.Commit(), "commit after abort")
}
