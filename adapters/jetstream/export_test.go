package jetstream

// AllowDeletes makes a store's stream without deny_delete and deny_purge, so that a test
// can stage an event lost from the log (a damaged block) by deleting it.
func AllowDeletes(cfg Config) Config {
	cfg.allowDelete = true
	return cfg
}
