package hooks

// FindSibling returns the sibling called name in m (nil m has none).
func FindSibling(m *Manifest, name string) (Sibling, bool) {
	if m == nil {
		return Sibling{}, false
	}
	for _, s := range m.Siblings {
		if s.Name == name {
			return s, true
		}
	}
	return Sibling{}, false
}
