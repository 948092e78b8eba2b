package progress

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFormatLine(t *testing.T) {
	u := Update{Phase: "download", Item: "Full-1.gz", Done: 512 << 20, Total: 1 << 30, Unit: "bytes", Rate: 256 << 20, ETA: 2 * time.Second}
	require.Equal(t, "download Full-1.gz 512.0 MiB / 1.0 GiB (50%) 256.0 MiB/s ETA 2s", FormatLine(u))
	u = Update{Phase: "apply deltas", Done: 1000, Unit: "events", Rate: 500, Elapsed: 2 * time.Second, Finished: true}
	require.Equal(t, "apply deltas 1000 events 500 events/s in 2s", FormatLine(u))
}

func TestMeterReportsAndNilIsSafe(t *testing.T) {
	var got []Update
	m := NewMeter(Func(func(u Update) { got = append(got, u) }), "download", "x", "bytes", 100)
	m.Interval = 0
	m.Add(40)
	m.Add(60)
	m.Finish()
	require.Len(t, got, 3)
	require.Equal(t, int64(100), got[2].Done)
	require.True(t, got[2].Finished)

	var nilMeter *Meter
	nilMeter.Add(5)
	nilMeter.Finish()
	quiet := NewMeter(nil, "p", "", "bytes", 0)
	quiet.Add(5)
	quiet.Finish()
	require.Equal(t, int64(5), quiet.Done())
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	JSON{W: &b}.Report(Update{Phase: "p", Done: 3, Unit: "events"})
	require.Contains(t, b.String(), `{"progress":{"phase":"p","done":3,"unit":"events"`)
}
