package kolibri

// Numbered is where a node sits in Kolibri's nested sets.
type Numbered struct {
	Lft, Rght, Level int
}

// Number gives each node of a tree its nested-set numbers from a
// depth-first walk in sibling order, as django-mptt numbers Studio's
// export: the root is lft 1 at level 0. children lists each node's
// children in order.
func Number(root string, children map[string][]string) map[string]Numbered {
	out := make(map[string]Numbered, len(children)+1)
	next := 1
	var walk func(id string, level int)
	walk = func(id string, level int) {
		lft := next
		next++
		for _, c := range children[id] {
			walk(c, level+1)
		}
		out[id] = Numbered{Lft: lft, Rght: next, Level: level}
		next++
	}
	walk(root, 0)
	return out
}
