package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/progress"
)

func TestTextProgressLine(t *testing.T) {
	var b bytes.Buffer
	textProgress{w: &b}.Report(progress.Update{Phase: "p", Done: 1, Unit: "events"})
	require.True(t, strings.HasPrefix(b.String(), "\r\033[K"), "an update redraws the line")
	require.False(t, strings.HasSuffix(b.String(), "\n"), "an unfinished update stays on its line")
	b.Reset()
	textProgress{w: &b}.Report(progress.Update{Phase: "p", Done: 1, Unit: "events", Finished: true})
	require.True(t, strings.HasSuffix(b.String(), "\n"), "a finished phase ends its line")
}
