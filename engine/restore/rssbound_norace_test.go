//go:build !race

package restore_test

// raceBuild is false: this is the build TestRestoreHugeDeltaPeakRSS measures.
const raceBuild = false
