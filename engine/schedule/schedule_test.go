package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

func TestParseAndCheck(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		ok         bool
	}{
		{"hourly", "0 */1 * * *", true},
		{"every", "@every 30m", true},
		{"empty is never", "", true},
		{"words", "every day", false},
		{"six fields", "0 0 */1 * * *", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("full snapshot schedule", tc.spec)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, fault.ErrRefused)
			require.Contains(t, err.Error(), "full snapshot schedule")
			require.Contains(t, err.Error(), tc.spec)
		})
	}
	s, err := Parse("x", "0 3 * * 0")
	require.NoError(t, err)
	next := s.Next(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	require.Equal(t, time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), next, "Sunday 03:00 UTC")
}
