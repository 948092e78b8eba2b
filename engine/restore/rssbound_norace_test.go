//go:build !race

package restore_test

// hugeDeltaRSSBound is the restore's peak RSS allowed on top of its db file (bbolt maps it).
const hugeDeltaRSSBound = 256 << 20

const raceBuild = false
