//go:build race

package restore_test

// hugeDeltaRSSBound under -race: the race detector's shadow memory roughly doubles the heap.
const hugeDeltaRSSBound = 512 << 20

// raceBuild: under -race the 1 GiB replay ran past the tests' 120 s context (measured), so the test skips.
const raceBuild = true
