package etcdconn

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

func TestValidateRefusesBadSettings(t *testing.T) {
	for name, c := range map[string]Config{
		"no endpoints":     {},
		"empty endpoint":   {Endpoints: []string{" "}},
		"cert without key": {Endpoints: []string{"127.0.0.1:2379"}, Cert: "c.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, errors.Is(c.Validate(), fault.ErrRefused))
		})
	}
	_, err := New(Config{Endpoints: []string{"127.0.0.1:2379"}, CACert: "/nonexistent/ca.pem"})
	require.True(t, errors.Is(err, fault.ErrRefused), "%v", err)
}

func TestWrongPasswordIsATypedAuthFailure(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := context.Background()
	_, err := cli.UserAdd(ctx, "root", "right-password")
	require.NoError(t, err)
	_, err = cli.UserGrantRole(ctx, "root", "root")
	require.NoError(t, err)
	_, err = cli.AuthEnable(ctx)
	require.NoError(t, err)
	eps := cli.Endpoints()

	_, err = New(Config{Endpoints: eps, User: "root", Password: "wrong-password-123"})
	var unreachable *fault.EtcdUnreachable
	require.ErrorAs(t, err, &unreachable)
	require.True(t, unreachable.AuthFailed, "%v", err)
	require.Contains(t, err.Error(), "authentication failed")
	require.NotContains(t, err.Error(), "wrong-password-123")
	require.NotContains(t, err.Error(), "--", "the engine names no flag; the faces add hints")

	ok, err := New(Config{Endpoints: eps, User: "root:right-password"})
	require.NoError(t, err)
	defer ok.Close()
	_, err = ok.Get(ctx, "k", clientv3.WithCountOnly())
	require.NoError(t, err)
}
