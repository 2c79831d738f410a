package clixml

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is a destination whose two pointers may name one object.
type node struct {
	A *node
	B *node
}

// sharedChainXML builds levels objects, each with property A holding the
// previous level as an <Obj> and property B a <Ref> to the same object.
// Followed as a tree it has 2^levels paths.
func sharedChainXML(levels int) string {
	inner := `<Obj RefId="0"><MS><Nil N="A" /><Nil N="B" /></MS></Obj>`
	for i := 1; i <= levels; i++ {
		id, prev := strconv.Itoa(i), strconv.Itoa(i-1)
		inner = `<Obj RefId="` + id + `"><MS>` + strings.Replace(inner, "<Obj ", `<Obj N="A" `, 1) +
			`<Ref N="B" RefId="` + prev + `" /></MS></Obj>`
	}
	return inner
}

// sharedListChainXML is like sharedChainXML with A and B two different
// lists each holding the previous level, so that the sharing is of an
// object decoded into a struct value, not a pointer.
func sharedListChainXML(levels int) string {
	inner := `<Obj RefId="0"><MS><Nil N="A" /><Nil N="B" /></MS></Obj>`
	prev := 0
	for i := 1; i <= levels; i++ {
		self := 3*i - 2
		id := func(k int) string { return strconv.Itoa(self + k) }
		inner = `<Obj RefId="` + id(0) + `"><MS><Obj N="A" RefId="` + id(1) + `"><LST>` + inner + `</LST></Obj>` +
			`<Obj N="B" RefId="` + id(2) + `"><LST><Ref RefId="` + strconv.Itoa(prev) + `" /></LST></Obj></MS></Obj>`
		prev = self
	}
	return inner
}

type listNode struct {
	A []listNode
	B []listNode
}

func unmarshalDeep(t *testing.T, s string) Value {
	t.Helper()
	v, err := DecoderOptions{MaxDepth: -1}.Unmarshal([]byte(s))
	require.NoError(t, err)
	return v
}

// The work of DecodeInto grows linearly with the levels of a shared
// chain (it was exponential: 20 levels took seconds, 40 never finished),
// and the shared object decodes to one pointer.
func TestDecodeIntoSharedChainLinear(t *testing.T) {
	steps := map[int]int{}
	for _, levels := range []int{10, 40, 80} {
		v := unmarshalDeep(t, sharedChainXML(levels))
		var x node
		n, err := DecodeIntoOptions{}.decodeInto(v, &x)
		require.NoError(t, err, levels)
		steps[levels] = n
		require.NotNil(t, x.A)
		assert.Same(t, x.A, x.B, "A and B name the same object: one pointer")
		p := &x
		for i := 0; i < levels; i++ {
			require.NotNil(t, p.A, "level %d", i)
			assert.Same(t, p.A, p.B, "level %d", i)
			p = p.A
		}
		assert.Nil(t, p.A, "the innermost level has Nil properties")
		assert.Nil(t, p.B)
	}
	// Each level costs the same number of steps.
	perLevel := (steps[80] - steps[40]) / 40
	assert.Equal(t, steps[80]-steps[40], (steps[40]-steps[10])*40/30, "steps %v", steps)
	assert.LessOrEqual(t, perLevel, 5, "steps %v", steps)
	assert.LessOrEqual(t, steps[80], 5*80+10, "steps %v", steps)
}

func TestDecodeIntoSharedStructValuesLinear(t *testing.T) {
	steps := map[int]int{}
	for _, levels := range []int{10, 20, 30} {
		v := unmarshalDeep(t, sharedListChainXML(levels))
		var x listNode
		n, err := DecodeIntoOptions{}.decodeInto(v, &x)
		require.NoError(t, err, levels)
		steps[levels] = n
		p := x
		for i := 0; i < levels; i++ {
			require.Len(t, p.A, 1, "level %d", i)
			require.Len(t, p.B, 1, "level %d", i)
			assert.Equal(t, len(p.A[0].A), len(p.B[0].A), "level %d: both lists hold the same object", i)
			p = p.A[0]
		}
		assert.Nil(t, p.A)
	}
	assert.Equal(t, steps[30]-steps[20], steps[20]-steps[10], "steps %v: linear", steps)
	assert.LessOrEqual(t, steps[30], 8*30+10, "steps %v", steps)
}

func TestDecodeIntoCycles(t *testing.T) {
	// An object whose property names itself: the pointer is dst itself.
	v, err := Unmarshal([]byte(`<Obj RefId="0"><MS><Ref N="A" RefId="0" /><Ref N="B" RefId="0" /></MS></Obj>`))
	require.NoError(t, err)
	var x node
	require.NoError(t, DecodeInto(v, &x))
	assert.Same(t, &x, x.A)
	assert.Same(t, &x, x.B)

	// Through a pointer destination: the allocated node refers to itself.
	var px *node
	require.NoError(t, DecodeInto(v, &px))
	require.NotNil(t, px)
	assert.Same(t, px, px.A)

	// A list that holds itself decodes to a slice whose element holds the
	// same slice.
	type tree struct {
		Kids []tree
	}
	v, err = Unmarshal([]byte(`<Obj RefId="0"><MS><Obj N="Kids" RefId="1"><LST><Ref RefId="0" /></LST></Obj></MS></Obj>`))
	require.NoError(t, err)
	var tr tree
	require.NoError(t, DecodeInto(v, &tr))
	require.Len(t, tr.Kids, 1)
	require.Len(t, tr.Kids[0].Kids, 1)
	assert.Same(t, &tr.Kids[0], &tr.Kids[0].Kids[0], "the same slice")

	// A dictionary that holds itself.
	type dict map[string]dict
	v, err = Unmarshal([]byte(`<Obj RefId="0"><DCT><En><S N="Key">me</S><Ref N="Value" RefId="0" /></En></DCT></Obj>`))
	require.NoError(t, err)
	var d dict
	require.NoError(t, DecodeInto(v, &d))
	require.Contains(t, d, "me")
	assert.Contains(t, d["me"], "me")
}

func TestDecodeIntoLimits(t *testing.T) {
	v := unmarshalDeep(t, sharedChainXML(40))
	var x node
	err := DecodeIntoOptions{MaxSteps: 50}.DecodeInto(v, &x)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrLimit)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxSteps", le.Limit)
	assert.Equal(t, int64(50), le.Max)
	assert.Equal(t, int64(-1), le.Offset)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.NotEmpty(t, de.Path)
	assert.Contains(t, err.Error(), "MaxSteps limit of 50 exceeded")

	err = DecodeIntoOptions{MaxDepth: 10}.DecodeInto(v, &x)
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxDepth", le.Limit)
	require.ErrorAs(t, err, &de)
	assert.Equal(t, strings.TrimSuffix(strings.Repeat("A.", 6), "."), de.Path, "a pointer and a struct per level")

	require.NoError(t, DecodeIntoOptions{MaxSteps: -1, MaxDepth: -1}.DecodeInto(v, &x))
	require.NoError(t, DecodeInto(v, &x), "the defaults allow it")
}

func TestDecodeIntoMapKeyNotComparable(t *testing.T) {
	v, err := Unmarshal([]byte(`<Obj RefId="0"><DCT><En><Obj N="Key" RefId="1"><LST><S>a</S></LST></Obj><S N="Value">v</S></En></DCT></Obj>`))
	require.NoError(t, err)
	var m map[any]string
	err = DecodeInto(v, &m)
	var de *DecodeError
	require.ErrorAs(t, err, &de, "a list key cannot index a Go map")
	assert.Equal(t, "[0].Key", de.Path)
}

// Interface destinations share one ToGo conversion per call, so a shared
// list converts once and its []any is the same slice in both places.
func TestDecodeIntoInterfaceShared(t *testing.T) {
	v, err := Unmarshal([]byte(`<Obj RefId="0"><MS><Obj N="A" RefId="1"><LST><S>x</S></LST></Obj><Ref N="B" RefId="1" /></MS></Obj>`))
	require.NoError(t, err)
	var x struct{ A, B any }
	require.NoError(t, DecodeInto(v, &x))
	a, b := x.A.([]any), x.B.([]any)
	require.Len(t, a, 1)
	assert.Same(t, &a[0], &b[0])
}

// deepChain builds n nested lists by hand, innermost holding leaf.
func deepChain(n int, leaf Value) *Object {
	o := NewList(leaf)
	for i := 1; i < n; i++ {
		o = NewList(o)
	}
	return o
}

// Hand-built values far deeper than any decoder limit: Equal compares
// them, ToGo stops at MaxConvertDepth, JSON reports a LimitError.
func TestDeepHandBuiltValues(t *testing.T) {
	const n = 2*MaxConvertDepth + 1
	a, b := deepChain(n, Int32(1)), deepChain(n, Int32(1))
	assert.True(t, Equal(a, b))
	assert.False(t, Equal(a, deepChain(n, Int32(2))), "differs at the bottom")
	assert.False(t, Equal(a, deepChain(n-1, Int32(1))), "one level fewer")

	g := ToGo(a)
	depth := 1
	for {
		s, ok := g.([]any)
		if !ok {
			break
		}
		require.Len(t, s, 1)
		g = s[0]
		depth++
	}
	assert.Equal(t, MaxConvertDepth+1, depth, "lists convert down to the limit")
	assert.IsType(t, (*Object)(nil), g, "the object beyond the limit is kept")

	_, err := JSON(a)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxConvertDepth", le.Limit)
	assert.ErrorIs(t, err, ErrLimit)
	prefix := []byte("x")
	out, err := AppendJSON(prefix, a)
	require.Error(t, err)
	assert.Equal(t, "x", string(out), "unchanged on error")

	ok, err := JSON(deepChain(MaxConvertDepth, Int32(1)))
	require.NoError(t, err, "exactly at the limit")
	assert.Equal(t, MaxConvertDepth, strings.Count(string(ok), `"LST":[`))
}

// shapes are the destinations FuzzDecodeInto decodes every value into.
func fuzzShapes() []func() any {
	type shallow struct {
		S    string `clixml:",tostring"`
		T    []string
		TN   []string `clixml:",typenames"`
		N    int32
		M    map[string]any
		Any  any
		Val  Value
		Obj  *Object
		List []*node
		Blob []byte
	}
	type deep struct {
		A, B    *deep
		Kids    []deep
		Exc     *exceptionInfo `clixml:"Exception"`
		Message string
		Dict    map[any]any `clixml:"ApplicationPrivateData"`
		Arr     [2]string
	}
	return []func() any{
		func() any { return new(node) },
		func() any { return new(listNode) },
		func() any { return new(errorRecord) },
		func() any { return new(shallow) },
		func() any { return new(deep) },
		func() any { return new([]deep) },
		func() any { return new(map[string]*deep) },
		func() any { return new(any) },
	}
}

// countSlots counts the objects of v and the values they hold, each
// object counted once.
func countSlots(v Value) int {
	seen := map[*Object]bool{}
	todo := []Value{v}
	n := 0
	for len(todo) > 0 {
		x := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		n++
		o, ok := x.(*Object)
		if !ok || o == nil || seen[o] {
			continue
		}
		seen[o] = true
		todo = append(todo, o.Inner)
		todo = append(todo, o.Items...)
		for _, e := range o.Entries {
			todo = append(todo, e.Key, e.Value)
		}
		for _, p := range o.Adapted {
			todo = append(todo, p.Value)
		}
		for _, p := range o.Extended {
			todo = append(todo, p.Value)
		}
	}
	return n
}

// FuzzDecodeInto decodes every value that Unmarshal accepts into several
// struct shapes: no panic, only *DecodeError errors, and work linear in
// the size of the value (each object is decoded at most once per Go
// type, and there are fewer than 64 types in the shapes, with at most 12
// fields each).
func FuzzDecodeInto(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(sharedChainXML(30)))
	f.Add([]byte(sharedListChainXML(15)))
	f.Add([]byte(`<Obj RefId="0"><MS><Ref N="A" RefId="0" /><Obj N="Kids" RefId="1"><LST><Ref RefId="0" /><Ref RefId="1" /></LST></Obj></MS></Obj>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		bound := 64 * 12 * (countSlots(v) + 1)
		for i, shape := range fuzzShapes() {
			dst := shape()
			steps, err := DecodeIntoOptions{}.decodeInto(v, dst)
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("shape %d: untyped error %T: %v", i, err, err)
				}
				if !strings.HasPrefix(err.Error(), "clixml: ") {
					t.Fatalf("shape %d: error without package prefix: %v", i, err)
				}
			}
			if steps > bound {
				t.Fatalf("shape %d: %d steps for %d slots", i, steps, countSlots(v))
			}
		}
	})
}

// Bytes decode into []byte as a copy, once per shared object, and an
// empty <BA> gives an empty slice.
func TestDecodeIntoBytes(t *testing.T) {
	v, err := Unmarshal([]byte(`<Obj RefId="0"><MS><BA N="Empty"></BA><Obj N="A" RefId="1"><BA>AQID</BA></Obj><Ref N="B" RefId="1" /></MS></Obj>`))
	require.NoError(t, err)
	var x struct{ Empty, A, B []byte }
	require.NoError(t, DecodeInto(v, &x))
	assert.Empty(t, x.Empty)
	assert.Equal(t, []byte{1, 2, 3}, x.A)
	assert.Same(t, &x.A[0], &x.B[0], "one copy for the shared object")
	inner := v.(*Object).Extended[1].Value.(*Object).Inner.(Bytes)
	assert.NotSame(t, &inner[0], &x.A[0], "a copy, not the decoded value's array")
}

// BenchmarkDecodeInto decodes an error record into a tagged struct and a
// 60-level shared chain (2^60 paths) into pointers; steps/op is the work
// DecodeInto counts against MaxSteps.
func BenchmarkDecodeInto(b *testing.B) {
	rec, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(b, err)
	chain, err := DecoderOptions{MaxDepth: -1}.Unmarshal([]byte(sharedChainXML(60)))
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		v    Value
		dst  func() any
	}{
		{"ErrorRecord", rec, func() any { return new(errorRecord) }},
		{"SharedChain60", chain, func() any { return new(node) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			steps := 0
			for b.Loop() {
				n, err := DecodeIntoOptions{}.decodeInto(c.v, c.dst())
				if err != nil {
					b.Fatal(err)
				}
				steps = n
			}
			b.ReportMetric(float64(steps), "steps/op")
		})
	}
}
