package clixml

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const errorRecordXML = `<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.ErrorRecord</T><T>System.Object</T></TN><ToString>boom</ToString><MS>` +
	`<Obj N="Exception" RefId="1"><TN RefId="1"><T>System.Exception</T><T>System.Object</T></TN><ToString>System.Exception: boom</ToString><Props><S N="Message">boom</S><I32 N="HResult">-2146233087</I32><Nil N="InnerException" /></Props></Obj>` +
	`<S N="FullyQualifiedErrorId">Oops,Fn</S>` +
	`<I32 N="ErrorCategory_Category">1</I32>` +
	`<Obj N="Cat" RefId="2"><TN RefId="2"><T>System.Management.Automation.ErrorCategory</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>DeviceError</ToString><I32>1</I32></Obj>` +
	`<Obj N="Tags" RefId="3"><TN RefId="3"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST><S>a</S><S>b</S></LST></Obj>` +
	`<Obj N="Data" RefId="4"><TN RefId="4"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT><En><S N="Key">k</S><I64 N="Value">7</I64></En></DCT></Obj>` +
	`<DT N="When">2018-06-13T23:46:28.00516+00:00</DT><TS N="Took">PT1.5S</TS><G N="Id">f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f</G>` +
	`<BA N="Blob">AQID</BA><U64 N="Big">18446744073709551615</U64><B N="writeErrorStream">true</B>` +
	`</MS></Obj>`

type exceptionInfo struct {
	Message string
	HResult int32
	Inner   *exceptionInfo `clixml:"InnerException"`
	Text    string         `clixml:",tostring"`
	Types   []string       `clixml:",typenames"`
}

type errorRecord struct {
	Exception  exceptionInfo
	ExceptionP *exceptionInfo `clixml:"Exception"`
	FQID       string         `clixml:"FullyQualifiedErrorId"`
	Category   int            `clixml:"ErrorCategory_Category"`
	CatName    string         `clixml:"Cat"`
	CatNum     uint8          `clixml:"Cat"`
	Tags       []string
	TagsArr    [2]string `clixml:"Tags"`
	Data       map[string]int64
	When       time.Time
	Took       time.Duration
	Id         uuid.UUID
	Blob       []byte
	Big        uint64
	Write      bool    `clixml:"writeErrorStream"`
	Raw        *Object `clixml:"Exception"`
	Any        any     `clixml:"Tags"`
	Val        Value   `clixml:"Data"`
	Missing    string
	Skipped    string `clixml:"-"`
	unexported string // DecodeInto must leave it alone
}

func TestDecodeInto(t *testing.T) {
	v, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(t, err)
	var er errorRecord
	er.Skipped = "keep"
	er.unexported = "keep"
	require.NoError(t, DecodeInto(v, &er))
	assert.Equal(t, "boom", er.Exception.Message)
	assert.Equal(t, int32(-2146233087), er.Exception.HResult)
	assert.Nil(t, er.Exception.Inner)
	assert.Equal(t, "System.Exception: boom", er.Exception.Text)
	assert.Equal(t, []string{"System.Exception", "System.Object"}, er.Exception.Types)
	require.NotNil(t, er.ExceptionP)
	assert.Equal(t, "boom", er.ExceptionP.Message)
	assert.Equal(t, "Oops,Fn", er.FQID)
	assert.Equal(t, 1, er.Category)
	assert.Equal(t, "DeviceError", er.CatName, "an enum into a string takes its ToString")
	assert.Equal(t, uint8(1), er.CatNum)
	assert.Equal(t, []string{"a", "b"}, er.Tags)
	assert.Equal(t, [2]string{"a", "b"}, er.TagsArr)
	assert.Equal(t, map[string]int64{"k": 7}, er.Data)
	assert.True(t, er.When.Equal(time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.UTC)))
	assert.Equal(t, 1500*time.Millisecond, er.Took)
	assert.Equal(t, uuid.MustParse("f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f"), er.Id)
	assert.Equal(t, []byte{1, 2, 3}, er.Blob)
	assert.Equal(t, uint64(18446744073709551615), er.Big)
	assert.True(t, er.Write)
	require.NotNil(t, er.Raw)
	assert.Equal(t, "System.Exception", er.Raw.TypeName())
	assert.Equal(t, []any{"a", "b"}, er.Any)
	assert.Equal(t, Dictionary, er.Val.(*Object).Kind)
	assert.Equal(t, "keep", er.Skipped)
	assert.Equal(t, "keep", er.unexported)
}

func TestDecodeIntoErrors(t *testing.T) {
	v, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(t, err)
	var de *DecodeError
	for name, dst := range map[string]any{
		"int into string": &struct {
			X int `clixml:"FullyQualifiedErrorId"`
		}{},
		"overflow": &struct {
			X int8 `clixml:"Exception"`
		}{},
		"negative": &struct {
			Exception struct{ HResult uint32 }
		}{},
		"struct from string": &struct {
			FullyQualifiedErrorId struct{}
		}{},
		"list from dict": &struct{ Data []string }{},
		"map from list":  &struct{ Tags map[string]string }{},
		"array length": &struct {
			Tags [3]string
		}{},
		"u64 into int64": &struct{ Big int64 }{},
	} {
		err := DecodeInto(v, dst)
		require.Error(t, err, name)
		assert.True(t, errors.As(err, &de), "%s: %v", name, err)
		assert.NotEmpty(t, de.Path, name)
	}
	assert.Error(t, DecodeInto(v, errorRecord{}), "not a pointer")
	var n int32
	require.NoError(t, DecodeInto(Int32(5), &n))
	assert.Equal(t, int32(5), n)
	var s *string
	require.NoError(t, DecodeInto(Nil{}, &s))
	assert.Nil(t, s)
}

func TestToGo(t *testing.T) {
	v, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(t, err)
	o := v.(*Object)
	assert.Equal(t, []any{"a", "b"}, ToGo(mustProp(t, o, "Tags")))
	assert.Equal(t, OrderedMap{{Key: "k", Value: int64(7)}}, ToGo(mustProp(t, o, "Data")))
	got, ok := ToGo(mustProp(t, o, "Data")).(OrderedMap).Get("k")
	assert.True(t, ok)
	assert.Equal(t, int64(7), got)
	assert.Equal(t, int32(1), ToGo(mustProp(t, o, "Cat")))
	assert.Equal(t, 1500*time.Millisecond, ToGo(mustProp(t, o, "Took")))
	assert.Same(t, o, ToGo(o), "objects with properties stay *Object")
	assert.Nil(t, ToGo(Nil{}))
	assert.Equal(t, uint16(65), ToGo(Char(65)))
	l := NewList()
	l.AddItem(l)
	got2 := ToGo(l).([]any)
	assert.Same(t, l, got2[0], "a self-containing list keeps the *Object where it recurs")
}

func mustProp(t *testing.T, o *Object, name string) Value {
	t.Helper()
	v, ok := o.Property(name)
	require.True(t, ok, name)
	return v
}

func TestJSON(t *testing.T) {
	shared := NewObject().AddExtended("n", Int32(1))
	o := NewObject("T", "System.Object").SetToString("s<&>")
	o.AddAdapted("p", String("x")).AddExtended("a", shared).AddExtended("b", shared).AddExtended("self", o).
		AddExtended("l", NewList(Int64(1), Float64(0.5), Nil{}, Bool(true))).
		AddExtended("d", NewHashtable(DictEntry{String("k"), UInt8(2)})).
		AddExtended("e", NewEnum("E", 3, "Three"))
	b, err := JSON(o)
	require.NoError(t, err)
	want := `{"$id":0,"TypeNames":["T","System.Object"],"ToString":"s\u003c\u0026\u003e","Props":{"p":"x"},"MS":{` +
		`"a":{"$id":1,"MS":{"n":1}},"b":{"$ref":1},"self":{"$ref":0},` +
		`"l":{"TypeNames":["System.Object[]","System.Array","System.Object"],"LST":[{"I64":1},{"Db":"0.5"},null,true]},` +
		`"d":{"TypeNames":["System.Collections.Hashtable","System.Object"],"DCT":[{"Key":"k","Value":{"By":2}}]},` +
		`"e":{"TypeNames":["E","System.Enum","System.ValueType","System.Object"],"ToString":"Three","Value":3}}}`
	assert.JSONEq(t, want, string(b))
	assert.Equal(t, want, string(b), "key order is document order")
	// json.Marshal uses the same form through Object.MarshalJSON.
	rec, err := Unmarshal([]byte(errorRecordXML))
	require.NoError(t, err)
	b2, err := JSON(rec)
	require.NoError(t, err)
	assert.Contains(t, string(b2), `"When":{"DT":"2018-06-13T23:46:28.00516+00:00"}`)
	assert.Contains(t, string(b2), `"Big":{"U64":18446744073709551615}`)
}

// A value with many references to shared objects (each level lists the
// previous one twice) stays linear for every operation: 2^60 expansions
// would never finish.
func TestSharedDAGStaysLinear(t *testing.T) {
	inner := `<Obj RefId="0"><LST /></Obj>`
	for i := 1; i <= 60; i++ {
		id := strconv.Itoa(i)
		prev := strconv.Itoa(i - 1)
		inner = `<Obj RefId="` + id + `"><LST>` + inner + `<Ref RefId="` + prev + `" /></LST></Obj>`
	}
	v, err := Unmarshal([]byte(inner))
	require.NoError(t, err)
	enc, err := Marshal(v)
	require.NoError(t, err)
	back, err := Unmarshal(enc)
	require.NoError(t, err)
	assert.True(t, Equal(v, back))
	assert.Less(t, len(enc), 2*len(inner))
	_, err = JSON(v)
	require.NoError(t, err)
	g := ToGo(v).([]any)
	assert.Len(t, g, 2)
}
