package gc_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/store"
)

var (
	yearStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	yearNow   = time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
)

// year is a synthetic year of backups: a chain (full + 2 deltas) at every full hour of 2026, as a daemon with
// --full-schedule "0 * * * *" writes them.
func year() []store.Object {
	var objs []store.Object
	i := int64(0)
	for t := yearStart; t.Before(yearNow); t = t.Add(time.Hour) {
		rev := 10*i + 10
		objs = append(objs,
			store.Object{Key: path.Join("v2", catalog.Name(catalog.Full, 0, rev, t, format.Gzip, false, false)), Size: 1, ModTime: t},
			store.Object{Key: path.Join("v2", catalog.Name(catalog.Delta, rev+1, rev+5, t.Add(20*time.Minute), format.Gzip, false, false)), Size: 1, ModTime: t},
			store.Object{Key: path.Join("v2", catalog.Name(catalog.Delta, rev+6, rev+9, t.Add(40*time.Minute), format.Gzip, false, false)), Size: 1, ModTime: t},
		)
		i++
	}
	return objs
}

// at names the chain whose full snapshot was taken at day/month hour:00 of 2026.
func at(month time.Month, day, hour int) string {
	return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC).Format("01-02T15")
}

func survivors(p *gc.Plan) []string {
	var out []string
	for _, it := range p.Keep {
		out = append(out, it.Time.Format("01-02T15"))
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string { sort.Strings(s); return s }

func TestPoliciesOnAYear(t *testing.T) {
	cat := catalog.Build("mem://year", year())
	require.Len(t, cat.Chains, 8760)
	require.Empty(t, cat.Problems)
	var dec31 []string
	for h := 0; h < 24; h++ {
		dec31 = append(dec31, at(12, 31, h))
	}
	cases := []struct {
		name string
		cfg  gc.Config
		want []string
	}{
		{"limit 5", gc.Config{Policy: gc.Limit, MaxBackups: 5},
			sorted(at(12, 31, 19), at(12, 31, 20), at(12, 31, 21), at(12, 31, 22), at(12, 31, 23))},
		{"limit 1", gc.Config{Policy: gc.Limit, MaxBackups: 1}, []string{at(12, 31, 23)}},
		{"exponential", gc.Config{Policy: gc.Exponential},
			// every hour of the last day (Dec 31; 23:00 is also the last hour's), the newest of each of the last
			// 7 days (Dec 25-31, 23:00), the newest of each ISO week in the last 28 days (Sundays Dec 6, 13, 20,
			// 27 and Thursday Dec 31 of the week in progress).
			sorted(append(append([]string{}, dec31...),
				at(12, 25, 23), at(12, 26, 23), at(12, 27, 23), at(12, 28, 23), at(12, 29, 23), at(12, 30, 23),
				at(12, 20, 23), at(12, 13, 23), at(12, 6, 23))...)},
		{"keep last 3 daily 7 weekly 4 monthly 12", gc.Config{Policy: gc.Keep, KeepLast: 3, KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 12},
			sorted(at(12, 31, 23), at(12, 31, 22), at(12, 31, 21),
				at(12, 30, 23), at(12, 29, 23), at(12, 28, 23), at(12, 27, 23), at(12, 26, 23), at(12, 25, 23),
				at(12, 20, 23), at(12, 13, 23),
				at(11, 30, 23), at(10, 31, 23), at(9, 30, 23), at(8, 31, 23), at(7, 31, 23), at(6, 30, 23),
				at(5, 31, 23), at(4, 30, 23), at(3, 31, 23), at(2, 28, 23), at(1, 31, 23))},
		{"keep hourly 30", gc.Config{Policy: gc.Keep, KeepHourly: 30},
			sorted(append(append([]string{}, dec31...),
				at(12, 30, 18), at(12, 30, 19), at(12, 30, 20), at(12, 30, 21), at(12, 30, 22), at(12, 30, 23))...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Now = func() time.Time { return yearNow }
			p, err := gc.PlanFor(cat, tc.cfg)
			require.NoError(t, err)
			require.Equal(t, tc.want, survivors(p))
			require.Len(t, p.Delete, 8760-len(tc.want))
			for _, it := range p.Delete {
				require.Len(t, it.Objects, 3)
				require.Equal(t, it.Base, it.Objects[2], "the full snapshot goes last")
			}
		})
	}
}

// The newest chain survives every policy, even when it is older than every window and has a gap.
func TestNeverTheNewestChain(t *testing.T) {
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	objs := []store.Object{
		{Key: "v2/" + catalog.Name(catalog.Full, 0, 10, old, format.Gzip, false, false), Size: 1},
		{Key: "v2/" + catalog.Name(catalog.Full, 0, 20, old.Add(time.Hour), format.Gzip, false, false), Size: 1},
		{Key: "v2/" + catalog.Name(catalog.Delta, 21, 30, old.Add(time.Hour), format.Gzip, false, false), Size: 1},
		{Key: "v2/" + catalog.Name(catalog.Full, 0, 40, old.Add(2*time.Hour), format.Gzip, false, false), Size: 1},
		{Key: "v2/" + catalog.Name(catalog.Delta, 45, 90, old.Add(2*time.Hour), format.Gzip, false, false), Size: 1}, // gap 41-44
	}
	cat := catalog.Build("mem://x", objs)
	p, err := gc.PlanFor(cat, gc.Config{Policy: gc.Exponential, Now: func() time.Time { return yearNow }})
	require.NoError(t, err)
	var kept []string
	for _, it := range p.Keep {
		kept = append(kept, it.Base)
	}
	require.Equal(t, []string{objs[3].Key}, kept)
	require.Len(t, p.Delete, 2)
	require.Equal(t, []string{objs[2].Key, objs[1].Key}, p.Delete[0].Objects)
}

func TestBadPolicies(t *testing.T) {
	for _, cfg := range []gc.Config{{Policy: "lru"}, {Policy: gc.Limit}, {Policy: gc.Keep}, {Policy: gc.Keep, KeepLast: -1, KeepDaily: 3}} {
		_, err := gc.PlanFor(catalog.Build("mem://x", nil), cfg)
		require.True(t, errors.Is(err, fault.ErrRefused), "%+v: %v", cfg, err)
	}
}

// Run deletes exactly the planned chains and nothing else: heartbeats, unrecognised objects and orphan deltas
// stay; --dry-run deletes nothing.
func TestRunDeletes(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "mem://gc-run/prefix")
	require.NoError(t, err)
	put := func(key string) {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{})
		require.NoError(t, err)
		_, err = w.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, w.Commit())
	}
	for _, o := range year()[:3*48] { // two days
		put(o.Key)
	}
	put("members/etcd-0.json")
	put("README")
	put("v2/" + catalog.Name(catalog.Delta, 1, 5, yearStart, format.Gzip, false, false)) // orphan: before any full
	// The objects are names with no snapshot inside: trusted here, verification is TestRunNeverCountsALyingChain's.
	cfg := gc.Config{Policy: gc.Limit, MaxBackups: 2, Verify: func(catalog.Snapshot) error { return nil }}
	p, err := gc.Run(ctx, st, cfg, true)
	require.NoError(t, err)
	require.Len(t, p.Delete, 46)
	require.Empty(t, p.Deleted)
	require.Equal(t, 3, p.Untouched)
	objs, err := st.List(ctx)
	require.NoError(t, err)
	require.Len(t, objs, 3*48+3)

	p, err = gc.Run(ctx, st, cfg, false)
	require.NoError(t, err)
	require.Len(t, p.Deleted, 46*3)
	objs, err = st.List(ctx)
	require.NoError(t, err)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	want := []string{"README", "members/etcd-0.json", "v2/" + catalog.Name(catalog.Delta, 1, 5, yearStart, format.Gzip, false, false)}
	for _, o := range year()[3*46 : 3*48] {
		want = append(want, o.Key)
	}
	require.ElementsMatch(t, want, keys, fmt.Sprint(keys))
}
