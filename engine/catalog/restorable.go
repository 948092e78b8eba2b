package catalog

// NewestRestorable is the highest revision any chain of c restores to without crossing a gap (0 for an empty
// store): the one rule behind "is this data dir older than the store", the console's store rows and initialize.
func NewestRestorable(c *Catalog) int64 {
	var best int64
	if c == nil {
		return 0
	}
	for _, ch := range c.Chains {
		best = max(best, ch.Restores())
	}
	return best
}

// Restores is the highest revision the chain can be restored to: its RestorableRevision, or 0 when its full
// snapshot is marked excluded (pick never uses it, so neither "newest restorable" nor a fleet's health counts it).
func (ch Chain) Restores() int64 {
	if ch.Base.Excluded != "" {
		return 0
	}
	return ch.RestorableRevision
}
