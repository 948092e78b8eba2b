//go:build !race

package restore_test

// hugeDeltaRSSBound is the restore's peak RSS allowed on top of its db file (bbolt maps it).
const hugeDeltaRSSBound = 256 << 20

// hugeDeltaGzip: the 1 GiB delta is gzip, as a watch's deltas are stored.
const hugeDeltaGzip = true
