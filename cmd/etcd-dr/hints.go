package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// hint says, in the CLI's words (its flags), what to do about a typed engine error; "" when there is nothing to add.
// The engine states facts; each face adds its own next step (the console says it with keys).
func hint(err error) string {
	var (
		target *fault.TargetExists
		gap    *fault.Gap
		enc    *fault.Encrypted
		dir    *fault.InvalidDataDir
		amb    *fault.Ambiguous
		none   *fault.NoneCompatible
		etcd   *fault.EtcdUnreachable
	)
	switch {
	case errors.As(err, &target) && target.MoveAsideHelps:
		return fmt.Sprintf("pass --move-aside to rename it to %s.broken-<timestamp> first (nothing is deleted), or choose another --data-dir", target.Path)
	case errors.As(err, &target) && target.ReplaceHelps:
		return "pass --force to replace it, or choose another --to"
	case errors.As(err, &gap):
		return fmt.Sprintf("rerun with --revision %d to accept that point", gap.SafeRevision)
	case errors.As(err, &enc):
		return "pass --identity FILE with an age identity that can read it"
	case errors.As(err, &dir) && dir.MoveAsideHelps:
		return "pass --move-aside to move it aside (nothing is deleted) and restore from the store"
	case errors.As(err, &none) && none.NeedsFull:
		return "take one with etcd-dr snapshot --full"
	case errors.As(err, &amb) && amb.Below:
		return "pass --cluster " + strings.Join(amb.Clusters, "") + ", or point --store at that folder"
	case errors.As(err, &etcd) && etcd.AuthFailed:
		return "check --user and --password (ETCDCTL_USER, ETCDCTL_PASSWORD)"
	case errors.As(err, &etcd):
		return "check --endpoints, the TLS flags, and that etcd is up"
	case errors.As(err, &amb):
		return "pass --cluster C (one of " + strings.Join(amb.Clusters, ", ") + "), or point --store at one cluster's folder"
	}
	return ""
}

// flagOf names the flag behind each setting the engine refuses (fault.BadSetting.Setting).
var flagOf = map[string]string{
	"endpoints":                        "--endpoints",
	"client certificate and key":       "--cert and --key",
	"etcd TLS files":                   "--cacert/--cert/--key",
	"age recipient":                    "--encrypt-to",
	"age identity file":                "--identity",
	"cluster":                          "--cluster",
	"etcd version":                     "--etcd-version",
	"revision":                         "--revision",
	"max backups":                      "--max-backups",
	"keep counts":                      "--keep-last/--keep-hourly/--keep-daily/--keep-weekly/--keep-monthly",
	"retention policy":                 "--gc-policy",
	"data dir":                         "--data-dir",
	"initial cluster":                  "--initial-cluster",
	"member name":                      "--name",
	"peer URLs":                        "--initial-advertise-peer-urls",
	"revision bump and mark-compacted": "--bump-revision and --mark-compacted",
	"spool dir":                        "--spool-dir",
	"target store":                     "--to-store",
	"max age":                          "--max-age",
	"parallel copies":                  "--parallel",
	"scratch dir":                      "--scratch",
}

// worded is err as the CLI prints it: the engine's message with settings named by their flags, then the hint.
func worded(err error) string {
	msg := err.Error()
	var bad *fault.BadSetting
	if errors.As(err, &bad) {
		if flag, ok := flagOf[bad.Setting]; ok {
			msg = strings.Replace(msg, bad.Error(), flag+strings.TrimPrefix(bad.Error(), bad.Setting), 1)
		}
	}
	if h := hint(err); h != "" {
		return msg + " — " + h
	}
	return msg
}
