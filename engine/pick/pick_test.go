package pick

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/store"
)

func objs(keys ...string) []store.Object {
	out := make([]store.Object, len(keys))
	for i, k := range keys {
		out[i] = store.Object{Key: k, Size: 10}
	}
	return out
}

func operatorCatalog() *catalog.Catalog {
	return catalog.Build("mem://op", objs(
		"3.4.3_0000000000000010_etcd.backup",
		"3.5.9_0000000000000020_etcd.backup",
		"3.6.4_0000000000000030_etcd.backup",
	))
}

func TestPick(t *testing.T) {
	gapped := catalog.Build("mem://br", objs(
		"v2/Full-00000000-00000100-1700000000.gz",
		"v2/Incr-00000101-00000200-1700000060.gz",
		"v2/Full-00000000-00000300-1700000120.gz",
		"v2/Incr-00000301-00000400-1700000180.gz",
		"v2/Incr-00000451-00000500-1700000240.gz",
	))
	cases := []struct {
		name     string
		cat      *catalog.Catalog
		cfg      Config
		wantRev  int64
		wantBase string
		wantObjs int
		refused  int
		class    error
		msg      string
	}{
		{name: "newest of any version", cat: operatorCatalog(), wantRev: 0x30, wantBase: "3.6.4_0000000000000030_etcd.backup", wantObjs: 1},
		{name: "3.6 target takes the 3.6 backup", cat: operatorCatalog(), cfg: Config{EtcdVersion: "3.6.0"}, wantRev: 0x30, wantObjs: 1, refused: 1},
		{name: "3.5 target refuses the newer 3.6 backup", cat: operatorCatalog(), cfg: Config{EtcdVersion: "3.5.21"}, wantRev: 0x20, wantBase: "3.5.9_0000000000000020_etcd.backup", wantObjs: 1, refused: 1},
		{name: "same version as the backup", cat: operatorCatalog(), cfg: Config{EtcdVersion: "3.4"}, wantRev: 0x10, wantObjs: 1, refused: 2},
		{name: "nothing restores into 3.9", cat: operatorCatalog(), cfg: Config{EtcdVersion: "3.9.0"}, refused: 3, class: fault.ErrNothingCompatible, msg: "restores into etcd"},
		{name: "exact revision", cat: operatorCatalog(), cfg: Config{Revision: 0x20}, wantRev: 0x20, wantObjs: 1},
		{name: "no such revision names the nearest", cat: operatorCatalog(), cfg: Config{Revision: 0x25}, class: fault.ErrNothingCompatible, msg: "nearest available: 32 (below) and 48 (above)"},
		{name: "bad version string", cat: operatorCatalog(), cfg: Config{EtcdVersion: "latest"}, class: fault.ErrRefused, msg: "etcd version \"latest\""},
		{name: "newest chain with a gap refuses without --revision", cat: gapped, class: fault.ErrProblems, msg: "restores only up to revision 400"},
		{name: "revision before the gap", cat: gapped, cfg: Config{Revision: 400}, wantRev: 400, wantBase: "v2/Full-00000000-00000300-1700000120.gz", wantObjs: 2},
		{name: "revision inside a delta stops there", cat: gapped, cfg: Config{Revision: 150}, wantRev: 150, wantBase: "v2/Full-00000000-00000100-1700000000.gz", wantObjs: 2},
		{name: "revision at the full snapshot needs no delta", cat: gapped, cfg: Config{Revision: 300}, wantRev: 300, wantObjs: 1},
		{name: "revision inside the gap", cat: gapped, cfg: Config{Revision: 420}, class: fault.ErrProblems, msg: "the newest revision before the gap is 400"},
		{name: "revision after the gap", cat: gapped, cfg: Config{Revision: 480}, class: fault.ErrProblems, msg: "the newest revision before the gap is 400"},
		{name: "revision below the oldest full", cat: gapped, cfg: Config{Revision: 50}, class: fault.ErrNothingCompatible, msg: "nearest available: 100 (the oldest restorable revision)"},
		{name: "revision between chains", cat: gapped, cfg: Config{Revision: 250}, class: fault.ErrNothingCompatible, msg: "200 (below) and 300 (above)"},
		{name: "empty store", cat: catalog.Build("mem://e", nil), class: fault.ErrNothingCompatible, msg: "no backups"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Pick(c.cat, c.cfg)
			if c.class != nil {
				require.Error(t, err)
				require.True(t, errors.Is(err, c.class), "%v", err)
				require.Contains(t, err.Error(), c.msg)
				if r != nil {
					require.Len(t, r.Refused, c.refused)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.wantRev, r.Revision)
			if c.wantBase != "" {
				require.Equal(t, c.wantBase, r.Chain.Base.Key)
			}
			require.Len(t, r.Objects, c.wantObjs)
			require.Len(t, r.Refused, c.refused)
		})
	}
}

func TestPickWarnsOnUnknownVersion(t *testing.T) {
	cat := catalog.Build("mem://br", objs("v2/Full-00000000-00000100-1700000000.gz"))
	r, err := Pick(cat, Config{EtcdVersion: "3.6.0"})
	require.NoError(t, err)
	require.Len(t, r.Warnings, 1)
	require.Contains(t, r.Warnings[0], "records no etcd version")
}
