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
// A container that contains itself is kept as the *Object where it recurs.
func ToGo(v Value) any {
	return toGo(v, map[*Object]bool{})
}

func toGo(v Value, active map[*Object]bool) any {
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
		if active[x] {
			return x
		}
		switch {
		case x.Kind == Dictionary:
			active[x] = true
			m := make(OrderedMap, 0, len(x.Entries))
			for _, e := range x.Entries {
				m = append(m, MapItem{Key: toGo(e.Key, active), Value: toGo(e.Value, active)})
			}
			delete(active, x)
			return m
		case x.Kind != NoContainer:
			active[x] = true
			s := make([]any, 0, len(x.Items))
			for _, it := range x.Items {
				s = append(s, toGo(it, active))
			}
			delete(active, x)
			return s
		case x.Inner != nil && len(x.Adapted) == 0 && len(x.Extended) == 0:
			active[x] = true
			r := toGo(x.Inner, active)
			delete(active, x)
			return r
		}
		return x
	}
	return v
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
