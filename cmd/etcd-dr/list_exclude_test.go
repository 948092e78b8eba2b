package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// An excluded snapshot is listed, with a line saying it is never picked and why, and "excluded" in JSON.
func TestListShowsExcluded(t *testing.T) {
	const key = "v2/Full-00000000-00000300-1700000120.gz"
	cat := catalog.Build("gs://br", []store.Object{{Key: key, Size: 10, Metadata: map[string]string{catalog.MetaExclude: "true"}}})
	var b bytes.Buffer
	printCatalog(&b, cat, time.Unix(1700000200, 0))
	require.Contains(t, b.String(), "chain 1 excluded, never picked: x-etcd-snapshot-exclude=true")
	js, err := json.Marshal(cat.Chains[0])
	require.NoError(t, err)
	require.Contains(t, string(js), `"excluded":"x-etcd-snapshot-exclude=true`)
}
