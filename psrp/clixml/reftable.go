package clixml

// refTable maps RefIds to decoded objects or type-name lists. Windows
// numbers RefIds 0, 1, 2, …, so small decimal ids index a slice; any other
// text goes to a map. The zero T means absent.
type refTable[T comparable] struct {
	dense  []T
	sparse map[string]T
	n      int
}

// denseIndex returns the slice index for id, or -1.
func (r *refTable[T]) denseIndex(id string) int {
	if len(id) == 0 || len(id) > 7 || (id[0] == '0' && len(id) > 1) {
		return -1
	}
	n := 0
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if n > len(r.dense)+1024 {
		return -1
	}
	return n
}

func (r *refTable[T]) get(id string) (T, bool) {
	var zero T
	if i := r.denseIndex(id); i >= 0 {
		if i < len(r.dense) && r.dense[i] != zero {
			return r.dense[i], true
		}
		// An id first stored when the slice was shorter may be in the map.
	}
	v, ok := r.sparse[id]
	return v, ok
}

// put stores v under id and reports whether id is new.
func (r *refTable[T]) put(id string, v T) bool {
	if _, ok := r.get(id); ok {
		r.set(id, v)
		return false
	}
	r.set(id, v)
	r.n++
	return true
}

func (r *refTable[T]) set(id string, v T) {
	if _, ok := r.sparse[id]; ok {
		r.sparse[id] = v
		return
	}
	if i := r.denseIndex(id); i >= 0 {
		for len(r.dense) <= i {
			var zero T
			r.dense = append(r.dense, zero)
		}
		r.dense[i] = v
		return
	}
	if r.sparse == nil {
		r.sparse = make(map[string]T)
	}
	r.sparse[id] = v
}

func (r *refTable[T]) reset() {
	clear(r.dense)
	r.dense = r.dense[:0]
	clear(r.sparse)
	r.n = 0
}

func (r *refTable[T]) len() int { return r.n }
