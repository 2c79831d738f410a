package clixml

import (
	"bytes"
	"math"
)

// Equal reports whether a and b are the same CLIXML value: same types and
// primitive values, same object type names, ToString, inner value,
// container kind and contents, and adapted and extended properties in the
// same order. Objects shared or cyclic in one value must be shared the same
// way in the other. Floats compare by value except that NaN equals NaN and
// 0 differs from -0; DateTimes compare by instant (time.Time.Equal), not by
// Raw text. nil and empty slices are equal, and a nil Value equals Nil.
//
// Equal walks the values with a work list, not recursion, so values of
// any depth compare without exhausting the stack; the work is linear in
// the size of the values, shared objects being compared once.
func Equal(a, b Value) bool {
	s := equalState{}
	s.push(a, b)
	for len(s.todo) > 0 {
		p := s.todo[len(s.todo)-1]
		s.todo = s.todo[:len(s.todo)-1]
		if !s.equal(p.a, p.b) {
			return false
		}
	}
	return true
}

// valuePair is a pair of values still to compare.
type valuePair struct{ a, b Value }

type equalState struct {
	ab   map[*Object]*Object
	ba   map[*Object]*Object
	todo []valuePair
}

func (s *equalState) push(a, b Value) { s.todo = append(s.todo, valuePair{a, b}) }

func normNil(v Value) Value {
	switch x := v.(type) {
	case nil:
		return Nil{}
	case *Object:
		if x == nil {
			return Nil{}
		}
	}
	return v
}

func (s *equalState) equal(a, b Value) bool {
	a, b = normNil(a), normNil(b)
	switch x := a.(type) {
	case *Object:
		y, ok := b.(*Object)
		return ok && s.object(x, y)
	case Float32:
		y, ok := b.(Float32)
		return ok && floatEq(float64(x), float64(y))
	case Float64:
		y, ok := b.(Float64)
		return ok && floatEq(float64(x), float64(y))
	case DateTime:
		y, ok := b.(DateTime)
		return ok && x.Time.Equal(y.Time)
	case Bytes:
		y, ok := b.(Bytes)
		return ok && bytes.Equal(x, y)
	case SecureString:
		y, ok := b.(SecureString)
		return ok && bytes.Equal(x, y)
	default:
		return a == b // comparable primitives, Nil, ProgressRecord
	}
}

func floatEq(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

func (s *equalState) object(a, b *Object) bool {
	if m, ok := s.ab[a]; ok {
		return m == b
	}
	if _, ok := s.ba[b]; ok {
		return false
	}
	if s.ab == nil {
		s.ab, s.ba = make(map[*Object]*Object), make(map[*Object]*Object)
	}
	s.ab[a], s.ba[b] = b, a
	if len(a.TypeNames) != len(b.TypeNames) || a.Kind != b.Kind ||
		a.ToString != b.ToString || (a.HasToString || a.ToString != "") != (b.HasToString || b.ToString != "") ||
		len(a.Items) != len(b.Items) || len(a.Entries) != len(b.Entries) ||
		len(a.Adapted) != len(b.Adapted) || len(a.Extended) != len(b.Extended) ||
		(a.Inner == nil) != (b.Inner == nil) {
		return false
	}
	for i := range a.TypeNames {
		if a.TypeNames[i] != b.TypeNames[i] {
			return false
		}
	}
	for i := range a.Adapted {
		if a.Adapted[i].Name != b.Adapted[i].Name {
			return false
		}
	}
	for i := range a.Extended {
		if a.Extended[i].Name != b.Extended[i].Name {
			return false
		}
	}
	// The contents are compared later, from the work list; the order in
	// which pairs are compared does not change the result.
	if a.Inner != nil {
		s.push(a.Inner, b.Inner)
	}
	for i := range a.Items {
		s.push(a.Items[i], b.Items[i])
	}
	for i := range a.Entries {
		s.push(a.Entries[i].Key, b.Entries[i].Key)
		s.push(a.Entries[i].Value, b.Entries[i].Value)
	}
	for i := range a.Adapted {
		s.push(a.Adapted[i].Value, b.Adapted[i].Value)
	}
	for i := range a.Extended {
		s.push(a.Extended[i].Value, b.Extended[i].Value)
	}
	return true
}
