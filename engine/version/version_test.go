package version

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRestores(t *testing.T) {
	cases := []struct {
		name, backup, target string
		ok                   bool
	}{
		{"same minor, same patch", "3.2.0", "3.2.0", true},
		{"same minor reported by the operator issue", "3.2", "3.2.13", true},
		{"patch ignored", "3.5.9", "3.5.21", true},
		{"next minor", "3.5.9", "3.6.0", true},
		{"two minors up", "3.4.3", "3.6.0", false},
		{"older target", "3.6.1", "3.5.21", false},
		{"other major", "3.6.1", "4.0.0", false},
		{"v prefix and rc", "v3.6.0-rc.1", "3.7.0", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Parse(c.backup)
			require.NoError(t, err)
			tg, err := Parse(c.target)
			require.NoError(t, err)
			ok, why := Restores(b, tg)
			require.Equal(t, c.ok, ok, why)
			if !ok {
				require.Contains(t, why, "not "+tg.String())
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "3", "three.six", "3.x.1"} {
		_, err := Parse(s)
		require.Error(t, err, s)
	}
}
