package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/textsafe"
)

// FormatLine renders an update for humans: "download Full-... 512.0 MiB / 1.0 GiB (50%) 210.3 MiB/s ETA 2s".
func FormatLine(u Update) string {
	var b strings.Builder
	b.WriteString(u.Phase)
	if u.Item != "" {
		b.WriteString(" " + textsafe.Name(u.Item)) // an object name: store data, not terminal control
	}
	b.WriteString(" " + Amount(u.Done, u.Unit))
	if u.Total > 0 {
		fmt.Fprintf(&b, " / %s (%d%%)", Amount(u.Total, u.Unit), u.Done*100/u.Total)
	}
	fmt.Fprintf(&b, " %s/s", Amount(int64(u.Rate), u.Unit))
	if u.Finished {
		fmt.Fprintf(&b, " in %s", u.Elapsed.Round(10*time.Millisecond))
	} else if u.ETA > 0 {
		fmt.Fprintf(&b, " ETA %s", u.ETA.Round(time.Second))
	}
	return b.String()
}

// Amount prints a count of unit: bytes in IEC units, anything else as a number with the unit.
func Amount(n int64, unit string) string {
	if unit != "bytes" {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return Bytes(n)
}

// Bytes prints a byte count in IEC units.
func Bytes(n int64) string {
	const k = 1024
	if n < k {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	for f /= k; f >= k && i < len(units)-1; i++ {
		f /= k
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// JSON writes one JSON object per update, one per line: {"progress": Update}.
type JSON struct{ W io.Writer }

// Report writes u.
func (j JSON) Report(u Update) {
	_ = json.NewEncoder(j.W).Encode(struct {
		Progress Update `json:"progress"`
	}{u})
}
