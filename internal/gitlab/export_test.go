package gitlab

// SetMaxPages lowers the page cap for a test and returns the undo.
func SetMaxPages(n int) (undo func()) {
	old := maxPages
	maxPages = n
	return func() { maxPages = old }
}
