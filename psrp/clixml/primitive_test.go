package clixml

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every primitive: decoding the XML gives the value and encoding the value
// gives exactly the XML.
func TestPrimitivesExact(t *testing.T) {
	dt := time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.UTC)
	g := uuid.MustParse("f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f")
	cases := []struct {
		xml string
		v   Value
	}{
		{`<S>abc</S>`, String("abc")},
		{`<S></S>`, String("")},
		{`<S>a_x000D__x000A_b_x0009_c</S>`, String("a\r\nb\tc")},
		{`<S>&lt;a&gt; &amp; "q" 'x'</S>`, String(`<a> & "q" 'x'`)},
		{`<S>_x005F_x _x005F_X _y __</S>`, String("_x _X _y __")},
		{`<S>_x005F_x0041_</S>`, String("_x0041_")},
		{`<S>_xD83D__xDE00_ é €</S>`, String("😀 é €")},
		{`<S>_xD800_</S>`, String("\xed\xa0\x80")},
		{`<S>_xDC00_a</S>`, String("\xed\xb0\x80a")},
		{"<S>_x007F__x0080__x009F_\u00a0</S>", String("\x7f\u0080\u009f\u00a0")},
		{`<S>_xFFFE__xFFFF_</S>`, String("\ufffe\uffff")},
		{`<C>97</C>`, Char(97)},
		{`<C>65535</C>`, Char(65535)},
		{`<B>true</B>`, Bool(true)},
		{`<B>false</B>`, Bool(false)},
		{`<DT>2018-06-13T23:46:28.00516+00:00</DT>`, DateTime{Time: dt, Raw: "2018-06-13T23:46:28.00516+00:00"}},
		{`<TS>PT9.0269026S</TS>`, Duration(90269026)},
		{`<TS>P1DT2H</TS>`, Duration((26 * 3600) * ticksPerSecond)},
		{`<TS>PT0S</TS>`, Duration(0)},
		{`<TS>-PT1M0.5S</TS>`, Duration(-605 * ticksPerSecond / 10)},
		{`<TS>P10675199DT2H48M5.4775807S</TS>`, Duration(math.MaxInt64)},
		{`<TS>-P10675199DT2H48M5.4775808S</TS>`, Duration(math.MinInt64)},
		{`<By>255</By>`, UInt8(255)},
		{`<SB>-128</SB>`, Int8(-128)},
		{`<U16>65535</U16>`, UInt16(65535)},
		{`<I16>-32768</I16>`, Int16(-32768)},
		{`<U32>4294967295</U32>`, UInt32(4294967295)},
		{`<I32>-2147483648</I32>`, Int32(-2147483648)},
		{`<U64>18446744073709551615</U64>`, UInt64(math.MaxUint64)},
		{`<I64>-9223372036854775808</I64>`, Int64(math.MinInt64)},
		{`<Sg>1.5</Sg>`, Float32(1.5)},
		{`<Sg>0.1</Sg>`, Float32(0.1)},
		{`<Sg>1E+07</Sg>`, Float32(1e7)},
		{`<Sg>1234567</Sg>`, Float32(1234567)},
		{`<Sg>3.4028235E+38</Sg>`, Float32(math.MaxFloat32)},
		{`<Db>0.1</Db>`, Float64(0.1)},
		{`<Db>-2.5</Db>`, Float64(-2.5)},
		{`<Db>INF</Db>`, Float64(math.Inf(1))},
		{`<Db>-INF</Db>`, Float64(math.Inf(-1))},
		{`<Db>NaN</Db>`, Float64(math.NaN())},
		{`<Db>-0</Db>`, Float64(math.Copysign(0, -1))},
		{`<Db>0</Db>`, Float64(0)},
		{`<Db>1E+20</Db>`, Float64(1e20)},
		{`<Db>1E+15</Db>`, Float64(1e15)},
		{`<Db>123456789012345</Db>`, Float64(123456789012345)},
		{`<Db>0.0001</Db>`, Float64(0.0001)},
		{`<Db>1E-05</Db>`, Float64(0.00001)},
		{`<Db>1.7976931348623157E+308</Db>`, Float64(math.MaxFloat64)},
		{`<Db>5E-324</Db>`, Float64(5e-324)},
		{`<D>1.10</D>`, Decimal("1.10")},
		{`<D>-79228162514264337593543950335</D>`, Decimal("-79228162514264337593543950335")},
		{`<BA>AQID</BA>`, Bytes{1, 2, 3}},
		{`<BA></BA>`, Bytes{}},
		{`<G>f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f</G>`, GUID(g)},
		{`<URI>http://a/b?c=d&amp;e=_x005F_x</URI>`, URI("http://a/b?c=d&e=_x")},
		{`<Version>1.1.0.1</Version>`, Version("1.1.0.1")},
		{`<XD>&lt;a x="1"&gt;t&lt;/a&gt;</XD>`, XMLDocument(`<a x="1">t</a>`)},
		{`<SBK>Get-Process | Select-Object -First 1_x000A_</SBK>`, ScriptBlock("Get-Process | Select-Object -First 1\n")},
		{`<SS>AQID</SS>`, SecureString{1, 2, 3}},
		{`<Nil />`, Nil{}},
		{`<PR><AV>Act</AV><AI>1</AI><Nil /><PI>-1</PI><PC>50</PC><T>Processing</T><SR>-1</SR><SD>half_x000A_</SD></PR>`,
			ProgressRecord{Activity: "Act", ActivityID: 1, ParentActivityID: -1, PercentComplete: 50, RecordType: "Processing", SecondsRemaining: -1, StatusDescription: "half\n"}},
		{`<PR><AV>A</AV><AI>0</AI><CO>op</CO><PI>2</PI><PC>-1</PC><T>Completed</T><SR>3</SR><SD> </SD></PR>`,
			ProgressRecord{Activity: "A", CurrentOperation: "op", ParentActivityID: 2, PercentComplete: -1, RecordType: "Completed", SecondsRemaining: 3, StatusDescription: " "}},
	}
	for _, c := range cases {
		t.Run(c.xml, func(t *testing.T) {
			got, err := Unmarshal([]byte(c.xml))
			require.NoError(t, err)
			assert.Equal(t, c.v.Tag(), got.Tag())
			assert.True(t, Equal(c.v, got), "decoded %#v, want %#v", got, c.v)
			enc, err := Marshal(c.v)
			require.NoError(t, err)
			assert.Equal(t, c.xml, string(enc))
			// As a named property too.
			o := NewObject().AddExtended("a_xb", c.v)
			enc, err = Marshal(o)
			require.NoError(t, err)
			back, err := Unmarshal(enc)
			require.NoError(t, err)
			assert.True(t, Equal(o, back), "%s", enc)
			assert.Equal(t, "a_xb", back.(*Object).Extended[0].Name)
		})
	}
}

// Inputs that decode but are not in canonical form.
func TestPrimitivesLenient(t *testing.T) {
	cases := []struct {
		xml string
		v   Value
	}{
		{"\ufeff <S>a</S>\r\n", String("a")},
		{`<S N="ignored">a</S>`, String("a")},
		{`<S>_x000d__x000a_</S>`, String("\r\n")},
		{`<S>_xd83d__xde00_</S>`, String("😀")},
		{`<S>_X0041_ _x41_ _x00G1_</S>`, String("_X0041_ _x41_ _x00G1_")},
		{`<S>_xD83D_x</S>`, String("\xed\xa0\xbdx")},
		{`<S>&#65;&#x42;<![CDATA[<c>]]></S>`, String("AB<c>")},
		{"<S>a\r\nb</S>", String("a\nb")},
		{`<S/>`, String("")},
		{`<Nil></Nil>`, Nil{}},
		{`<B> 1 </B>`, Bool(true)},
		{`<B>0</B>`, Bool(false)},
		{`<I32> +42 </I32>`, Int32(42)},
		{`<U32>-0</U32>`, UInt32(0)},
		{`<Db>+INF</Db>`, Float64(math.Inf(1))},
		{`<Db>1e400</Db>`, Float64(math.Inf(1))},
		{`<Db>.5</Db>`, Float64(0.5)},
		{`<TS>P1Y2M3DT4H5M6.123456789S</TS>`, Duration((((365+60+3)*24+4)*3600+5*60+6)*ticksPerSecond + 1234567)},
		{"<BA>AQ\n ID</BA>", Bytes{1, 2, 3}},
		{`<G>{F9A7F6E8-3C0B-4E8D-9D1B-2A7B1C4D5E6F}</G>`, GUID(uuid.MustParse("f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f"))},
		{`<?xml version="1.0" encoding="utf-8"?><!-- c --><S>x<!-- y -->z</S>`, String("xz")},
	}
	for _, c := range cases {
		t.Run(c.xml, func(t *testing.T) {
			got, err := Unmarshal([]byte(c.xml))
			require.NoError(t, err)
			assert.True(t, Equal(c.v, got), "decoded %#v, want %#v", got, c.v)
		})
	}
}

func TestDateTimeForms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2018-06-13T23:46:28.00516+00:00", time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.UTC)},
		{"2018-06-13T23:46:28Z", time.Date(2018, 6, 13, 23, 46, 28, 0, time.UTC)},
		{"2018-06-13T23:46:28.1234567-07:00", time.Date(2018, 6, 14, 6, 46, 28, 123456700, time.UTC)},
		{"2018-06-13T23:46:28.1234567", time.Date(2018, 6, 13, 23, 46, 28, 123456700, time.UTC)},
	} {
		v, err := Unmarshal([]byte("<DT>" + c.in + "</DT>"))
		require.NoError(t, err, c.in)
		dt := v.(DateTime)
		assert.True(t, dt.Time.Equal(c.want), "%s: got %v", c.in, dt.Time)
		assert.Equal(t, c.in, dt.Raw)
	}
	// Without Raw the .NET round-trip form is written.
	enc, err := Marshal(DateTime{Time: time.Date(2020, 1, 2, 3, 4, 5, 600000000, time.FixedZone("", 3600))})
	require.NoError(t, err)
	assert.Equal(t, "<DT>2020-01-02T03:04:05.6+01:00</DT>", string(enc))
	enc, err = Marshal(DateTime{Time: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)})
	require.NoError(t, err)
	assert.Equal(t, "<DT>2020-01-02T03:04:05Z</DT>", string(enc))
}

func TestPrimitiveErrors(t *testing.T) {
	for _, in := range []string{
		`<I32>abc</I32>`, `<I32>2147483648</I32>`, `<I32></I32>`, `<By>-1</By>`, `<By>256</By>`, `<U64>-1</U64>`,
		`<C>65536</C>`, `<B>yes</B>`, `<B></B>`, `<Db>Infinity</Db>`, `<Db>0x1p3</Db>`, `<Db>1_0</Db>`,
		`<Db>1e</Db>`, `<Db>.</Db>`, `<Db>inf</Db>`, `<Sg>nan</Sg>`, `<D>1e5</D>`, `<D>1.2.3</D>`, `<D></D>`,
		`<TS>P</TS>`, `<TS>PT</TS>`, `<TS>1S</TS>`, `<TS>P1H</TS>`, `<TS>PT1D</TS>`, `<TS>PT1S2M</TS>`,
		`<TS>P1.5D</TS>`, `<TS>P99999999999999999DT</TS>`, `<TS>P10675199DT2H48M5.4775808S</TS>`,
		`<DT>yesterday</DT>`, `<DT>2018-13-01T00:00:00Z</DT>`, `<DT>2018-01-01T00:00:00.1234567890Z</DT>`,
		`<G>nope</G>`, `<BA>!!</BA>`, `<BA>AQI</BA>`, `<SS>*</SS>`, `<Nil>x</Nil>`, `<PR><XX>1</XX></PR>`,
		`<PR><AI>x</AI></PR>`, `<S><B>true</B></S>`,
	} {
		t.Run(in, func(t *testing.T) {
			_, err := Unmarshal([]byte(in))
			require.Error(t, err)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%T %v", err, err)
			assert.NotEmpty(t, se.Element)
		})
	}
}

func TestFloatFormat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1"}, {100, 64, "100"}, {1.25, 64, "1.25"}, {1e14, 64, "100000000000000"},
		{1.5e15, 64, "1.5E+15"}, {1e100, 64, "1E+100"}, {0.000123, 64, "0.000123"},
		{1.23e-6, 64, "1.23E-06"}, {-1e-7, 64, "-1E-07"}, {1.0 / 3, 64, "0.3333333333333333"},
		{float64(float32(1.0 / 3)), 32, "0.33333334"}, {1e6, 32, "1000000"}, {1.5e7, 32, "1.5E+07"},
	} {
		assert.Equal(t, c.want, string(appendFloat(nil, c.f, c.bits)), "%v", c.f)
	}
}
