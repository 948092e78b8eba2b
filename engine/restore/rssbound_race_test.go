//go:build race

package restore_test

// hugeDeltaRSSBound under -race: the race detector's shadow memory roughly doubles the heap (measured: 484 MiB
// over the db, against about 200 MiB without -race; a delta held whole would be over 1 GiB).
const hugeDeltaRSSBound = 640 << 20

// hugeDeltaGzip: under -race the 1 GiB delta is stored uncompressed, so that the test fits in CI's time; the
// instrumented gzip took about 70 s to write it and as long again to read it (measured: 152 s in all with gzip).
// The bound on what is read past a compressed delta's events is TestRestoreDecompressionBomb's.
const hugeDeltaGzip = false
