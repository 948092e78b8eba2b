// Package engine is the one door into etcd-dr's core: engine.Open(ctx, url, Options) returns a *Repo that owns an
// opened store and its catalog, and every job a face (the CLI in cmd/etcd-dr, the console in tui/, the daemon's
// HTTP API) does on a store is a method of it, taking ctx first and a documented request struct.
//
// Where each job and rule lives (one function each; the faces only call them):
//
//	listing, chains, gaps, overlaps     catalog.Build          (catalog/catalog.go)
//	newest restorable revision          catalog.NewestRestorable, Repo.NewestRestorable
//	delta continuity                    catalog (chain building); validate and restore read its verdict
//	the version rule X.Y -> X.Y, X.Y+1  version.Restores        (version/version.go)
//	choosing a restore point            pick.Pick              via Repo.Pick
//	download (stream, verify, atomic)   download.Download      via Repo.Download
//	validate backups / a data dir       validate.Backups, validate.DataDir via Repo.ValidateBackups, Repo.ValidateDataDir
//	the restore target rule             restore.CheckTarget    via Repo.CheckTarget (also inside Restore)
//	restore, initialize                 restore.Restore, restore.Initialize via Repo.Restore, Repo.Initialize
//	retention                           gc.PlanFor, gc.Run     via Repo.GC
//	folding a chain into one snapshot   compact.Compact        via Repo.Compact
//	copying chains to another store     copy.Run               via Repo.Copy
//	backup daemons' heartbeats          heartbeat.Read         via Repo.Heartbeats
//	etcd members' status                status.Query           (status/status.go)
//	who backs up (leader election)      leadership.Elector, leadership.Leadership (daemon and defrag ask it)
//	sidecar initialization handshake    initialization.Manager (runs Repo.Initialize; api mounts it)
//	typed domain errors                 fault (TargetExists, Gap, NoneCompatible, Corrupt, InvalidDataDir, ...)
//
// Writers (snapshot, daemon) open the store through OpenForWrite and hand Repo.Store() to the snapshot and daemon
// packages, which own streaming to the store; nothing above engine imports store.
package engine
