#!/usr/bin/env bash
# The etcd container's bootstrap loop of etcd-backup-restore's handshake (see README.md here for the sources):
# poll GET /initialization/status, call GET /initialization/start on New, wait through Progress,
# exec etcd on Successful. Failed is polled again (the sidecar turns it back to New once read).
# Args: SIDECAR_URL MODE FAILBELOWREVISION ETCD [etcd args...]
set -u
url=$1 mode=$2 failbelow=$3 etcd=$4
shift 4
while true; do
  status=$(curl -sf "$url/initialization/status") || { sleep 0.2; continue; }
  echo "status: $status"
  case "$status" in
    New) curl -sf "$url/initialization/start?mode=$mode&failbelowrevision=$failbelow" >/dev/null ;;
    Progress) sleep 0.2 ;;
    Failed) sleep 0.2 ;;
    Successful) echo "exec etcd"; exec "$etcd" "$@" ;;
    *) sleep 0.2 ;;
  esac
done
