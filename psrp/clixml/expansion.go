package clixml

import "math"

// DefaultMaxExpansion is the default ConvertOptions.MaxExpansion: 16 Mi, the
// size of the default response limit of package wsman. A value that shares
// nothing counts no more than the CLIXML it was decoded from (see
// Expansion), so every such value of a message within the psrp defaults
// converts.
const DefaultMaxExpansion = 16 << 20

// ConvertOptions bounds ToGo.
type ConvertOptions struct {
	// MaxExpansion bounds Expansion(v), the size of the converted value as
	// a tree walk sees it. Zero means DefaultMaxExpansion; negative means
	// no bound.
	MaxExpansion int64
}

// ToGo converts v as the package-level ToGo does, after checking that the
// result cannot expand beyond o.MaxExpansion when a caller walks it as a
// tree: a value whose Expansion exceeds it gives a *LimitError (Limit
// "MaxExpansion", Offset -1) and no result. The check is linear in the
// size of v, shared objects included.
func (o ConvertOptions) ToGo(v Value) (any, error) {
	limit := o.MaxExpansion
	if limit == 0 {
		limit = DefaultMaxExpansion
	}
	if limit > 0 && Expansion(v, limit) > limit {
		return nil, &LimitError{Limit: "MaxExpansion", Max: limit, Offset: -1}
	}
	return ToGo(v), nil
}

// Expansion returns the size of v as a tree walk sees it, which is what
// fmt.Sprint, json.Marshal or any recursive walker of ToGo's result
// visits: every value counts 1, plus the length of its text (strings and
// the other text primitives, byte arrays, an object's ToString, property
// names), each time it is reached, so that an object shared by n
// references counts n times. Where ToGo keeps an *Object (a cycle, or
// beyond MaxConvertDepth) it counts 1. The count is conservative (it
// includes what ToGo drops, such as the properties of an enum) and never
// more than the size of the CLIXML text for a value that shares nothing.
//
// Counting is linear in the size of v. With limit >= 0 it stops as soon as
// the count exceeds limit and returns limit+1; with a negative limit the
// count saturates at math.MaxInt64.
func Expansion(v Value, limit int64) int64 {
	if limit < 0 || limit == math.MaxInt64 {
		limit = math.MaxInt64 - 1
	}
	e := expander{limit: limit, memo: map[*Object]int64{}, active: map[*Object]bool{}}
	return e.size(v, 1)
}

// expander counts Expansion, memoising the count of every object so that
// shared objects are walked once.
type expander struct {
	limit  int64
	memo   map[*Object]int64
	active map[*Object]bool
}

// add returns a+b, capped just past the limit.
func (e *expander) add(a, b int64) int64 {
	if b > e.limit-a {
		return e.limit + 1
	}
	return a + b
}

func (e *expander) size(v Value, depth int) int64 {
	switch x := v.(type) {
	case String:
		return e.add(1, int64(len(x)))
	case URI:
		return e.add(1, int64(len(x)))
	case Version:
		return e.add(1, int64(len(x)))
	case XMLDocument:
		return e.add(1, int64(len(x)))
	case ScriptBlock:
		return e.add(1, int64(len(x)))
	case Decimal:
		return e.add(1, int64(len(x)))
	case Bytes:
		return e.add(1, int64(len(x)))
	case SecureString:
		return e.add(1, int64(len(x)))
	case ProgressRecord:
		return e.add(1, int64(len(x.Activity)+len(x.StatusDescription)+len(x.CurrentOperation)+len(x.RecordType)))
	case *Object:
		if x == nil || e.active[x] || depth > MaxConvertDepth {
			return 1
		}
		if n, ok := e.memo[x]; ok {
			return n
		}
		e.active[x] = true
		n := e.object(x, depth)
		delete(e.active, x)
		e.memo[x] = n
		return n
	}
	return 1
}

func (e *expander) object(x *Object, depth int) int64 {
	n := e.add(1, int64(len(x.ToString)))
	if x.Inner != nil {
		n = e.add(n, e.size(x.Inner, depth+1))
	}
	for _, it := range x.Items {
		if n > e.limit {
			return n
		}
		n = e.add(n, e.size(it, depth+1))
	}
	for _, en := range x.Entries {
		if n > e.limit {
			return n
		}
		n = e.add(n, e.size(en.Key, depth+1))
		n = e.add(n, e.size(en.Value, depth+1))
	}
	for _, props := range [2][]Property{x.Adapted, x.Extended} {
		for _, p := range props {
			if n > e.limit {
				return n
			}
			n = e.add(n, int64(len(p.Name)))
			n = e.add(n, e.size(p.Value, depth+1))
		}
	}
	return n
}
