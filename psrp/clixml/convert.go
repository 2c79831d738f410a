package clixml

import (
	"math"
	"time"

	"github.com/google/uuid"
)

// MapItem is one entry of an OrderedMap.
type MapItem struct {
	Key   any
	Value any
}

// OrderedMap is a dictionary converted by ToGo, in document order.
type OrderedMap []MapItem

// Get returns the value of the first entry whose key equals key (keys are
// compared with ==, so only comparable keys match).
func (m OrderedMap) Get(key any) (any, bool) {
	for _, it := range m {
		if comparableEq(it.Key, key) {
			return it.Value, true
		}
	}
	return nil, false
}

func comparableEq(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// ToGo converts v to plain Go values:
//
//	Nil                           nil
//	String, URI, Version, XMLDocument, ScriptBlock, Decimal   string
//	Char                          uint16
//	Bool                          bool
//	UInt8 … Int64                 uint8 … int64
//	Float32, Float64              float32, float64
//	DateTime                      time.Time
//	Duration                      time.Duration (the Duration itself if out of range)
//	Bytes                         []byte
//	GUID                          uuid.UUID
//	SecureString, ProgressRecord  unchanged
//	*Object list-like container   []any
//	*Object dictionary            OrderedMap
//	*Object wrapping a value only the converted inner value (an enum gives its int32)
//	other *Object                 the *Object itself
//
// A container that contains itself is kept as the *Object where it recurs,
// and so is an object nested more than MaxConvertDepth deep (v being at
// depth 1), so that hand-built values of any depth convert without
// exhausting the stack.
//
// Shared objects (<Ref>) convert once and the result shares them: the same
// []any or OrderedMap appears wherever the object was referenced. The
// conversion stays linear, but a caller that walks the result as a tree
// (fmt.Sprint, json.Marshal, reflect.DeepEqual, any recursive printer)
// visits a shared value once per reference, and a hostile peer can make
// that exponential: an object of about 1 KB with ten references per level
// over seven levels prints as 72 MB. For values from a peer, use
// ConvertOptions.ToGo, which refuses a value whose tree is larger than a
// budget (see Expansion), or render with JSON, whose size is linear in the
// value's (shared objects are written once and then referenced).
func ToGo(v Value) any {
	c := toGoState{active: map[*Object]bool{}, done: map[*Object]any{}}
	return c.toGo(v, 1)
}

// MaxConvertDepth is the nesting depth to which ToGo and JSON follow a
// value: a top-level value is at depth 1, the inner value, items, entries
// and properties of an object one deeper. Values decoded with the default
// DecoderOptions nest at most DefaultMaxDepth deep.
const MaxConvertDepth = 10000

// toGoState tracks the objects being converted (to stop at cycles) and
// those converted already (so that shared objects convert once: a value
// with many references to shared objects stays linear in size).
type toGoState struct {
	active map[*Object]bool
	done   map[*Object]any
}

func (c *toGoState) toGo(v Value, depth int) any {
	switch x := v.(type) {
	case nil, Nil:
		return nil
	case String:
		return string(x)
	case URI:
		return string(x)
	case Version:
		return string(x)
	case XMLDocument:
		return string(x)
	case ScriptBlock:
		return string(x)
	case Decimal:
		return string(x)
	case Char:
		return uint16(x)
	case Bool:
		return bool(x)
	case UInt8:
		return uint8(x)
	case Int8:
		return int8(x)
	case UInt16:
		return uint16(x)
	case Int16:
		return int16(x)
	case UInt32:
		return uint32(x)
	case Int32:
		return int32(x)
	case UInt64:
		return uint64(x)
	case Int64:
		return int64(x)
	case Float32:
		return float32(x)
	case Float64:
		return float64(x)
	case DateTime:
		return x.Time
	case Duration:
		if d, ok := x.GoDuration(); ok {
			return d
		}
		return x
	case Bytes:
		return []byte(x)
	case GUID:
		return uuid.UUID(x)
	case *Object:
		if x == nil {
			return nil
		}
		if c.active[x] || depth > MaxConvertDepth {
			return x
		}
		if r, ok := c.done[x]; ok {
			return r
		}
		c.active[x] = true
		r := c.object(x, depth)
		delete(c.active, x)
		c.done[x] = r
		return r
	}
	return v
}

func (c *toGoState) object(x *Object, depth int) any {
	{
		switch {
		case x.Kind == Dictionary:
			m := make(OrderedMap, 0, len(x.Entries))
			for _, e := range x.Entries {
				m = append(m, MapItem{Key: c.toGo(e.Key, depth+1), Value: c.toGo(e.Value, depth+1)})
			}
			return m
		case x.Kind != NoContainer:
			s := make([]any, 0, len(x.Items))
			for _, it := range x.Items {
				s = append(s, c.toGo(it, depth+1))
			}
			return s
		case x.Inner != nil && len(x.Adapted) == 0 && len(x.Extended) == 0:
			return c.toGo(x.Inner, depth+1)
		}
		return x
	}
}

// GoDuration converts the ticks to a time.Duration, reporting false when
// the value does not fit.
func (d Duration) GoDuration() (time.Duration, bool) {
	if d > math.MaxInt64/100 || d < math.MinInt64/100 {
		return 0, false
	}
	return time.Duration(d) * 100, true
}

// DurationOf converts a time.Duration to ticks (100 ns, rounding toward
// zero).
func DurationOf(d time.Duration) Duration { return Duration(d / 100) }
