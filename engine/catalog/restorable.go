package catalog

// NewestRestorable is the highest revision any chain of c restores to without crossing a gap (0 for an empty
// store): the one rule behind "is this data dir older than the store", the console's store rows and initialize.
func NewestRestorable(c *Catalog) int64 {
	var best int64
	if c == nil {
		return 0
	}
	for _, ch := range c.Chains {
		best = max(best, ch.RestorableRevision)
	}
	return best
}
