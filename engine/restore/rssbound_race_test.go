//go:build race

package restore_test

// hugeDeltaRSSBound under -race: the race detector's shadow memory roughly doubles the heap.
const hugeDeltaRSSBound = 512 << 20
