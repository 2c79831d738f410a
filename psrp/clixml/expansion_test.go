package clixml

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fanOutXML is an object of references: levels nested lists, each holding
// the next level once and fan-1 references to it; the innermost holds fan
// one-letter strings. As a tree it has fan^levels leaves.
func fanOutXML(levels, fan int) string {
	var b strings.Builder
	var build func(level int)
	build = func(level int) {
		fmt.Fprintf(&b, `<Obj RefId="%d"><LST>`, level)
		if level == levels-1 {
			for range fan {
				b.WriteString("<S>x</S>")
			}
		} else {
			build(level + 1)
			for range fan - 1 {
				fmt.Fprintf(&b, `<Ref RefId="%d" />`, level+1)
			}
		}
		b.WriteString("</LST></Obj>")
	}
	build(0)
	return b.String()
}

// A small object of shared references (fan-out 10, 7 levels: 10^7 strings
// as a tree) is the shape that printed as 72 MB. Its JSON form stays small;
// ToGo with an expansion budget refuses it with a typed error instead of
// returning a value that a tree walk (fmt.Sprint, json.Marshal) expands.
func TestSharedReferencesExpansionBounded(t *testing.T) {
	src := fanOutXML(7, 10)
	v, err := Unmarshal([]byte(src))
	require.NoError(t, err)

	js, err := JSON(v)
	require.NoError(t, err)
	t.Logf("fan-out 10, 7 levels: %d bytes of CLIXML, %d bytes of JSON", len(src), len(js))
	assert.Less(t, len(js), 2*len(src), "the JSON form writes each shared object once")

	_, err = ConvertOptions{}.ToGo(v)
	require.ErrorIs(t, err, ErrLimit)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxExpansion", le.Limit)
	assert.Equal(t, int64(DefaultMaxExpansion), le.Max)
	assert.Equal(t, int64(-1), le.Offset)

	// A smaller one: 2 levels have 1 + 10 + 100 values and 100 bytes of
	// text as a tree (211), 3 levels 2111.
	small, err := Unmarshal([]byte(fanOutXML(2, 10)))
	require.NoError(t, err)
	assert.Equal(t, int64(211), Expansion(small, -1))
	g, err := ConvertOptions{MaxExpansion: 211}.ToGo(small)
	require.NoError(t, err)
	assert.Equal(t, ToGo(small), g)
	assert.Less(t, len(fmt.Sprint(g)), 2*211, "what a tree walk prints is of the order of the expansion")
	_, err = ConvertOptions{MaxExpansion: 210}.ToGo(small)
	require.ErrorAs(t, err, &le)
	assert.Equal(t, int64(210), le.Max)

	three, err := Unmarshal([]byte(fanOutXML(3, 10)))
	require.NoError(t, err)
	assert.Equal(t, int64(2111), Expansion(three, -1))
	assert.Equal(t, int64(1001), Expansion(three, 1000), "counting stops past the limit")
	_, err = ConvertOptions{MaxExpansion: -1}.ToGo(three)
	require.NoError(t, err, "a negative budget is no limit")
}

// A value that shares nothing counts no more than the CLIXML it was
// decoded from, so the default budget (the default response limit) never
// refuses such a value from a message within the defaults.
func TestExpansionOfUnsharedValueWithinInputSize(t *testing.T) {
	v, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(t, err)
	n := Expansion(v, -1)
	assert.Positive(t, n)
	assert.LessOrEqual(t, n, int64(len(errorRecordXML)))
	_, err = ConvertOptions{MaxExpansion: int64(len(errorRecordXML))}.ToGo(v)
	require.NoError(t, err)

	// Cycles count once where they recur, as ToGo keeps the *Object there.
	l := NewList(String("ab"))
	l.AddItem(l)
	assert.Equal(t, int64(1+3+1), Expansion(l, -1))
	g, err := ConvertOptions{}.ToGo(l)
	require.NoError(t, err)
	assert.Same(t, l, g.([]any)[1])
}
