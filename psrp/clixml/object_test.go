package clixml

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const refsXML = `<Obj RefId="0"><MS>` +
	`<Obj N="a" RefId="1"><TN RefId="0"><T>X.Y</T><T>System.Object</T></TN><ToString>x</ToString><Props><I32 N="p">1</I32></Props></Obj>` +
	`<Ref N="b" RefId="1" />` +
	`<Obj N="c" RefId="2"><TNRef RefId="0" /><ToString>y</ToString></Obj>` +
	`</MS></Obj>`

func TestRefsAndTypeNameRefs(t *testing.T) {
	v, err := Unmarshal([]byte(refsXML))
	require.NoError(t, err)
	root := v.(*Object)
	a, _ := root.PropObject("a")
	b, _ := root.PropObject("b")
	c, _ := root.PropObject("c")
	require.NotNil(t, a)
	assert.Same(t, a, b, "a Ref resolves to the same *Object")
	assert.NotSame(t, a, c)
	assert.Equal(t, []string{"X.Y", "System.Object"}, c.TypeNames)
	assert.Equal(t, "X.Y", a.TypeName())
	assert.True(t, a.HasType("X.Y"))
	n, ok := a.PropInt32("p")
	assert.True(t, ok)
	assert.Equal(t, int32(1), n)
	enc, err := Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, refsXML, string(enc))
}

func TestPropsAndMSKeptApartInOrder(t *testing.T) {
	in := `<Obj RefId="0"><TN RefId="0"><T>T</T></TN><ToString>s</ToString><Props><S N="z">1</S><S N="a">2</S></Props><MS><S N="a">3</S><S N="m">4</S></MS></Obj>`
	v, err := Unmarshal([]byte(in))
	require.NoError(t, err)
	o := v.(*Object)
	assert.Equal(t, []Property{{"z", String("1")}, {"a", String("2")}}, o.Adapted)
	assert.Equal(t, []Property{{"a", String("3")}, {"m", String("4")}}, o.Extended)
	s, _ := o.PropString("a")
	assert.Equal(t, "3", s, "extended properties shadow adapted ones")
	_, ok := o.Property("missing")
	assert.False(t, ok)
	enc, err := Marshal(o)
	require.NoError(t, err)
	assert.Equal(t, in, string(enc))
}

func TestContainersAndEnum(t *testing.T) {
	enum := NewEnum("System.Management.Automation.Runspaces.ApartmentState", 2, "UNKNOWN")
	list := NewList(String("a"), Int32(1), Nil{})
	ht := NewHashtable(DictEntry{String("k"), String("v")}, DictEntry{Int32(1), NewList()})
	q := &Object{Kind: Queue, Items: []Value{Bool(true)}}
	st := &Object{Kind: Stack, Items: []Value{Bool(false)}}
	ie := &Object{Kind: Enumerable}
	root := NewObject().AddExtended("ApartmentState", enum).AddExtended("l", list).AddExtended("h", ht).
		AddExtended("q", q).AddExtended("s", st).AddExtended("ie", ie)
	enc, err := Marshal(root)
	require.NoError(t, err)
	want := `<Obj RefId="0"><MS>` +
		`<Obj N="ApartmentState" RefId="1"><TN RefId="0"><T>System.Management.Automation.Runspaces.ApartmentState</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>UNKNOWN</ToString><I32>2</I32></Obj>` +
		`<Obj N="l" RefId="2"><TN RefId="1"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST><S>a</S><I32>1</I32><Nil /></LST></Obj>` +
		`<Obj N="h" RefId="3"><TN RefId="2"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT><En><S N="Key">k</S><S N="Value">v</S></En><En><I32 N="Key">1</I32><Obj N="Value" RefId="4"><TNRef RefId="1" /><LST /></Obj></En></DCT></Obj>` +
		`<Obj N="q" RefId="5"><QUE><B>true</B></QUE></Obj>` +
		`<Obj N="s" RefId="6"><STK><B>false</B></STK></Obj>` +
		`<Obj N="ie" RefId="7"><IE /></Obj>` +
		`</MS></Obj>`
	assert.Equal(t, want, string(enc))
	back, err := Unmarshal(enc)
	require.NoError(t, err)
	assert.True(t, Equal(root, back))
	bo := back.(*Object)
	n, ok := bo.PropInt32("ApartmentState")
	assert.True(t, ok, "enum reads as its integer")
	assert.Equal(t, int32(2), n)
	h, _ := bo.PropObject("h")
	kv, ok := h.Lookup("k")
	assert.True(t, ok)
	assert.Equal(t, String("v"), kv)
	// Key and Value in the other order decode as well.
	v, err := Unmarshal([]byte(`<Obj RefId="0"><DCT><En><S N="Value">v</S><S N="Key">k</S></En></DCT></Obj>`))
	require.NoError(t, err)
	assert.Equal(t, []DictEntry{{String("k"), String("v")}}, v.(*Object).Entries)
}

func TestCyclesAndSharing(t *testing.T) {
	o := NewObject("X")
	o.AddExtended("self", o)
	enc, err := Marshal(o)
	require.NoError(t, err)
	assert.Equal(t, `<Obj RefId="0"><TN RefId="0"><T>X</T></TN><MS><Ref N="self" RefId="0" /></MS></Obj>`, string(enc))
	back, err := Unmarshal(enc)
	require.NoError(t, err)
	bo := back.(*Object)
	self, _ := bo.PropObject("self")
	assert.Same(t, bo, self)
	assert.True(t, Equal(o, back))

	// Sharing must match: two refs to one object differ from two equal objects.
	shared := NewObject().AddExtended("n", Int32(1))
	a := NewObject().AddExtended("x", shared).AddExtended("y", shared)
	b := NewObject().AddExtended("x", NewObject().AddExtended("n", Int32(1))).AddExtended("y", NewObject().AddExtended("n", Int32(1)))
	assert.False(t, Equal(a, b))
	assert.True(t, Equal(a, a))
	assert.True(t, Equal(b, b))
	// A list containing itself.
	l := NewList()
	l.AddItem(l, String("x"))
	enc, err = Marshal(l)
	require.NoError(t, err)
	back, err = Unmarshal(enc)
	require.NoError(t, err)
	assert.True(t, Equal(l, back))
	assert.Same(t, back, back.(*Object).Items[0])
}

func TestEqualPrimitives(t *testing.T) {
	assert.True(t, Equal(nil, Nil{}))
	assert.True(t, Equal((*Object)(nil), Nil{}))
	assert.False(t, Equal(Int32(1), Int64(1)))
	assert.False(t, Equal(String("a"), URI("a")))
	assert.False(t, Equal(Bytes{1}, SecureString{1}))
	assert.True(t, Equal(Bytes(nil), Bytes{}))
	assert.False(t, Equal(Float64(0), Float64(math.Copysign(0, -1))))
	assert.True(t, Equal(Float64(math.NaN()), Float64(math.NaN())))
	assert.False(t, Equal(NewObject("A"), NewObject("B")))
	assert.False(t, Equal(NewObject().SetToString("a"), NewObject()))
}

func TestStructuralErrors(t *testing.T) {
	for _, in := range []string{
		``, `   `, `hello`, `<S>a</S><S>b</S>`, `<S>a</S>x`, `<S>abc</T>`, `<S>abc`, `<Foo/>`, `<Obj RefId="0">`,
		`<Ref RefId="0" />`, `<Obj RefId="0"><Ref N="x" RefId="9" /></Obj>`, `<Obj RefId="0"><MS><Ref N="x" RefId="9" /></MS></Obj>`,
		`<Obj RefId="0"><TNRef RefId="3" /></Obj>`, `<Obj RefId="0"><TN RefId="0"><X/></TN></Obj>`,
		`<Obj RefId="0"><TN RefId="0"></TN><TN RefId="1"></TN></Obj>`, `<Obj RefId="0"><ToString/><ToString/></Obj>`,
		`<Obj RefId="0"><MS></MS><MS></MS></Obj>`,
		`<Obj RefId="0"><LST></LST><I32>1</I32></Obj>`, `<Obj RefId="0"><DCT><En><S N="Key">a</S></En></DCT></Obj>`,
		`<Obj RefId="0"><DCT><En><S N="Key">a</S><S N="Key">b</S><S N="Value">c</S></En></DCT></Obj>`,
		`<Obj RefId="0"><DCT><S N="Key">a</S></DCT></Obj>`, `<Obj RefId="0"><DCT><En><S>a</S></En></DCT></Obj>`,
		`<Obj RefId="0">text</Obj>`, `<Obj RefId="0"><LST></QUE></Obj>`, `<Objs><S>a</S></Objs>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><S>&a;</S>`, `<S>&foo;</S>`, `<S>a&#0;</S>`, "<S>\xff</S>", `<S a="1" a="2">x</S>`,
	} {
		t.Run(in, func(t *testing.T) {
			_, err := Unmarshal([]byte(in))
			require.Error(t, err)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%T %v", err, err)
			assert.Contains(t, err.Error(), "offset")
		})
	}
}

func deepList(n int) string {
	return strings.Repeat(`<Obj RefId="0"><LST>`, n) + strings.Repeat(`</LST></Obj>`, n)
}

func TestLimits(t *testing.T) {
	cases := []struct {
		name  string
		opts  DecoderOptions
		in    string
		limit string
	}{
		{"depth", DecoderOptions{}, deepList(DefaultMaxDepth + 1), "MaxDepth"},
		{"depth small", DecoderOptions{MaxDepth: 2}, `<Obj RefId="0"><MS><Obj N="a" RefId="1"><MS><I32 N="b">1</I32></MS></Obj></MS></Obj>`, "MaxDepth"},
		{"string", DecoderOptions{MaxStringSize: 10}, `<S>01234567890</S>`, "MaxStringSize"},
		{"input", DecoderOptions{MaxInputSize: 100}, `<S>` + strings.Repeat("a", 200) + `</S>`, "MaxInputSize"},
		{"objects", DecoderOptions{MaxObjects: 2}, `<Obj RefId="0"><LST><Obj RefId="1"/><Obj RefId="2"/></LST></Obj>`, "MaxObjects"},
		{"refs", DecoderOptions{MaxStreamRefs: 2}, `<Obj RefId="0"><TN RefId="0"><T>a</T></TN><LST><Obj RefId="1"/></LST></Obj>`, "MaxStreamRefs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, ref := range []bool{false, true} {
				o := c.opts
				o.reference = ref
				_, err := o.Unmarshal([]byte(c.in))
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrLimit), "%v", err)
				var le *LimitError
				require.True(t, errors.As(err, &le))
				assert.Equal(t, c.limit, le.Limit)
			}
		})
	}
	// Just within the limits.
	_, err := Unmarshal([]byte(deepList(DefaultMaxDepth)))
	require.NoError(t, err)
	_, err = DecoderOptions{MaxStringSize: 10}.Unmarshal([]byte(`<S>0123456789</S>`))
	require.NoError(t, err)
	_, err = DecoderOptions{MaxDepth: -1}.Unmarshal([]byte(deepList(200)))
	require.NoError(t, err)
	// The encoder refuses what the decoder would refuse.
	deep := NewList()
	for i := 0; i < DefaultMaxDepth; i++ {
		deep = NewList(deep)
	}
	_, err = Marshal(deep)
	assert.True(t, errors.Is(err, ErrLimit))
}

const streamXML = "\ufeff#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">" +
	`<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>` +
	"\r\n" + `<Obj S="progress" RefId="1"><TNRef RefId="0" /><MS><Ref N="prev" RefId="0" /></MS></Obj>` +
	`<S S="Error">boom_x000D__x000A_</S>` +
	`</Objs>`

func TestDecoderStream(t *testing.T) {
	for _, ref := range []bool{false, true} {
		d := DecoderOptions{reference: ref}.NewDecoder(strings.NewReader(streamXML))
		v1, s1, err := d.DecodeWithStream()
		require.NoError(t, err)
		assert.Equal(t, "progress", s1)
		pr, _ := v1.(*Object).Property("Record")
		assert.Equal(t, "Preparing", pr.(ProgressRecord).Activity)
		v2, s2, err := d.DecodeWithStream()
		require.NoError(t, err)
		assert.Equal(t, "progress", s2)
		assert.Equal(t, v1.(*Object).TypeNames, v2.(*Object).TypeNames, "TNRef resolves across values of one <Objs>")
		prev, _ := v2.(*Object).PropObject("prev")
		assert.Same(t, v1, prev, "Ref resolves across values of one <Objs>")
		v3, err := d.Decode()
		require.NoError(t, err)
		assert.Equal(t, String("boom\r\n"), v3)
		assert.Equal(t, "Error", d.Stream())
		_, err = d.Decode()
		assert.Equal(t, io.EOF, err)
		_, err = d.Decode()
		assert.Equal(t, io.EOF, err)
	}
}

func TestDecoderBareValues(t *testing.T) {
	in := `<Obj RefId="0"><TN RefId="0"><T>A</T></TN></Obj> <S>x</S>` + "\n" + `<Obj RefId="0"><TNRef RefId="0" /></Obj>`
	d := NewDecoder(strings.NewReader(in))
	v, err := d.Decode()
	require.NoError(t, err)
	assert.Equal(t, "A", v.(*Object).TypeName())
	v, err = d.Decode()
	require.NoError(t, err)
	assert.Equal(t, String("x"), v)
	// Outside <Objs> every value is numbered on its own: the TNRef is unknown.
	_, err = d.Decode()
	var se *SyntaxError
	require.True(t, errors.As(err, &se), "%v", err)
	_, err2 := d.Decode()
	assert.Equal(t, err, err2, "errors are sticky")
}

func TestDecoderTruncatedStream(t *testing.T) {
	d := NewDecoder(strings.NewReader(streamXML[:len(streamXML)-len("</Objs>")]))
	for {
		_, err := d.Decode()
		if err == nil {
			continue
		}
		var se *SyntaxError
		require.True(t, errors.As(err, &se), "%v", err)
		break
	}
}

func TestEncoderStream(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	o := NewObject("T")
	require.NoError(t, enc.Encode(o))
	require.NoError(t, enc.Encode(o))
	assert.Equal(t, `<Obj RefId="0"><TN RefId="0"><T>T</T></TN></Obj><Obj RefId="0"><TN RefId="0"><T>T</T></TN></Obj>`, buf.String())
}

func TestEncodeErrors(t *testing.T) {
	var ee *EncodeError
	for _, v := range []Value{
		String("\xff"),
		NewObject().AddExtended("bad\xffname", Nil{}),
		&Object{Items: []Value{String("a")}},
		&Object{Kind: Dictionary, Items: []Value{String("a")}},
		&Object{Kind: List, Entries: []DictEntry{{String("a"), String("b")}}},
		&Object{Kind: List, Inner: Int32(1)},
		&Object{Kind: ContainerKind(42)},
		Decimal("1e5"),
	} {
		_, err := Marshal(v)
		require.Error(t, err, "%#v", v)
		assert.True(t, errors.As(err, &ee), "%T %v", err, err)
	}
}

func TestEscapeFunctions(t *testing.T) {
	for _, c := range []struct{ raw, enc string }{
		{"plain", "plain"},
		{"a\r\nb", "a_x000D__x000A_b"},
		{"_x_X_y", "_x005F_x_x005F_X_y"},
		{"😀", "_xD83D__xDE00_"},
		{"\xed\xa0\x80", "_xD800_"},
		{"\u0085", "_x0085_"},
		{"<&>", "<&>"},
	} {
		got, err := EncodeString(c.raw)
		require.NoError(t, err)
		assert.Equal(t, c.enc, got)
		assert.Equal(t, c.raw, DecodeString(c.enc))
	}
	_, err := EncodeString("\xff")
	assert.Error(t, err)
	assert.Equal(t, "_x12", DecodeString("_x12"))
}

// The streaming decoder gives the same values whatever the reads look like:
// one byte at a time, or everything at once.
func TestDecoderSmallReads(t *testing.T) {
	var all bytes.Buffer
	var want []Value
	for _, m := range recordedMessagesOrSeeds(t) {
		v, err := Unmarshal(m)
		require.NoError(t, err)
		want = append(want, v)
		all.Write(m)
		all.WriteString("\r\n")
	}
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(all.Bytes())),
		"half":     iotest.HalfReader(bytes.NewReader(all.Bytes())),
		"all":      bytes.NewReader(all.Bytes()),
	} {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(r)
			for i, w := range want {
				v, err := d.Decode()
				require.NoError(t, err, "value %d", i)
				require.True(t, Equal(w, v), "value %d", i)
			}
			_, err := d.Decode()
			assert.Equal(t, io.EOF, err)
		})
	}
}

// recordedMessagesOrSeeds returns the recorded messages, or a few hand-made
// ones when the recordings are absent.
func recordedMessagesOrSeeds(t *testing.T) [][]byte {
	out := [][]byte{[]byte(refsXML), []byte(errorRecordXML), []byte(`<S>a&amp;b_x000A_</S>`), []byte(`<S><![CDATA[x]]>y</S>`)}
	if _, err := recordingsDir(); err == nil {
		for _, m := range recordedMessages(t) {
			out = append(out, m.data)
		}
	}
	return out
}

func TestDecoderStreamLimits(t *testing.T) {
	// MaxInputSize applies to each value of a stream, not to the stream.
	in := strings.Repeat(`<S>`+strings.Repeat("a", 50)+`</S>`, 10)
	d := DecoderOptions{MaxInputSize: 80}.NewDecoder(iotest.HalfReader(strings.NewReader(in)))
	for i := 0; i < 10; i++ {
		_, err := d.Decode()
		require.NoError(t, err, "value %d", i)
	}
	_, err := d.Decode()
	assert.Equal(t, io.EOF, err)
	d = DecoderOptions{MaxInputSize: 40}.NewDecoder(strings.NewReader(in))
	_, err = d.Decode()
	assert.True(t, errors.Is(err, ErrLimit), "%v", err)
	// A huge text is refused without being buffered whole.
	big := io.MultiReader(strings.NewReader("<S>"), &repeatReader{b: 'a', n: 1 << 30})
	d = DecoderOptions{MaxStringSize: 1 << 10}.NewDecoder(big)
	_, err = d.Decode()
	assert.True(t, errors.Is(err, ErrLimit), "%v", err)
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return k, nil
}

func TestStreamEncoder(t *testing.T) {
	var buf bytes.Buffer
	se := NewStreamEncoder(&buf)
	shared := NewObject("T").AddExtended("n", Int32(1))
	require.NoError(t, se.Encode(shared, "Output"))
	require.NoError(t, se.Encode(NewObject("T").AddExtended("prev", shared), "progress"))
	require.NoError(t, se.Encode(String("boom\r\n"), "Error"))
	require.NoError(t, se.Encode(Int32(7), ""))
	require.NoError(t, se.Close())
	assert.Error(t, se.Encode(Nil{}, ""))
	want := "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">` +
		`<Obj S="Output" RefId="0"><TN RefId="0"><T>T</T></TN><MS><I32 N="n">1</I32></MS></Obj>` +
		`<Obj S="progress" RefId="1"><TNRef RefId="0" /><MS><Ref N="prev" RefId="0" /></MS></Obj>` +
		`<S S="Error">boom_x000D__x000A_</S><I32>7</I32></Objs>`
	assert.Equal(t, want, buf.String())
	d := NewDecoder(&buf)
	v1, s1, err := d.DecodeWithStream()
	require.NoError(t, err)
	assert.Equal(t, "Output", s1)
	v2, s2, err := d.DecodeWithStream()
	require.NoError(t, err)
	assert.Equal(t, "progress", s2)
	prev, _ := v2.(*Object).PropObject("prev")
	assert.Same(t, v1, prev)
	v3, s3, err := d.DecodeWithStream()
	require.NoError(t, err)
	assert.Equal(t, "Error", s3)
	assert.Equal(t, String("boom\r\n"), v3)
	v4, s4, err := d.DecodeWithStream()
	require.NoError(t, err)
	assert.Equal(t, "", s4)
	assert.Equal(t, Int32(7), v4)
	_, err = d.Decode()
	assert.Equal(t, io.EOF, err)

	var empty bytes.Buffer
	require.NoError(t, NewStreamEncoder(&empty).Close())
	d = NewDecoder(&empty)
	_, err = d.Decode()
	assert.Equal(t, io.EOF, err)
}
