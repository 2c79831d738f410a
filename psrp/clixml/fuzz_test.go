package clixml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzSeeds returns hand-written edge cases plus, when the recordings are
// present, real CLIXML messages and files.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := []string{
		`<S>a_x000D__x000A_b</S>`, `<S>_xD83D__xDE00__xD800_x_x005F_x</S>`, `<S>&lt;&amp;&#x41;<![CDATA[]]>]]&gt;</S>`,
		`<Nil />`, `<B>true</B>`, `<Db>-INF</Db>`, `<Sg>1E+07</Sg>`, `<TS>-P1DT2H3M4.5S</TS>`,
		`<DT>2018-06-13T23:46:28.00516+00:00</DT>`, `<G>f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f</G>`, `<BA>AQID</BA>`,
		`<C>65</C>`, `<U64>18446744073709551615</U64>`, `<D>-1.5</D>`, `<Version>2.3</Version>`, `<SBK>ls</SBK>`,
		`<URI>http://x</URI>`, `<XD>&lt;a/&gt;</XD>`, `<SS>AQID</SS>`,
		`<PR><AV>a</AV><AI>1</AI><Nil /><PI>-1</PI><PC>5</PC><T>Processing</T><SR>-1</SR><SD>s</SD></PR>`,
		refsXML, errorRecordXML,
		`<Obj RefId="0"><TN RefId="0"><T>X</T></TN><MS><Ref N="self" RefId="0" /></MS></Obj>`,
		`<Obj RefId="0"><DCT><En><S N="Key">k</S><Obj N="Value" RefId="1"><LST><Ref RefId="0" /></LST></Obj></En></DCT></Obj>`,
		`<Obj RefId="0"><Obj RefId="1"><I32>1</I32></Obj></Obj>`,
		deepList(70),
		streamXML,
		"\ufeff<S>x</S>\n",
	}
	var out [][]byte
	for _, s := range seeds {
		out = append(out, []byte(s))
	}
	if _, err := recordingsDir(); err == nil {
		for _, m := range recordedMessages(f) {
			out = append(out, m.data)
		}
		for _, b := range recordedStreams(f) {
			out = append(out, b)
		}
	}
	return out
}

// FuzzUnmarshal checks that decoding never panics, that the fast and the
// reference tokenizers agree, and that what decodes round-trips.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		rv, rerr := DecoderOptions{reference: true}.Unmarshal(data)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("fast and reference decoders disagree: fast %v, reference %v", err, rerr)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) && !errors.Is(err, ErrLimit) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if !Equal(v, rv) {
			t.Fatalf("fast and reference decoders give different values")
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of a decoded value: %v", err)
		}
		v2, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("re-Unmarshal: %v\n%s", err, enc)
		}
		if !Equal(v, v2) {
			t.Fatalf("round trip changed the value:\n%q\n%q", data, enc)
		}
		if _, err := JSON(v); err != nil {
			t.Fatal(err)
		}
		_ = ToGo(v)
		// Without references a value expands no more than its text, so
		// the default ConvertOptions never refuse it.
		if n := Expansion(v, -1); !bytes.Contains(data, []byte("<Ref")) && n > int64(len(data)) {
			t.Fatalf("a value without references expands to %d, more than its %d bytes", n, len(data))
		}
		if _, err := (ConvertOptions{}).ToGo(v); err != nil && !bytes.Contains(data, []byte("<Ref")) {
			t.Fatalf("ConvertOptions.ToGo of a value without references: %v", err)
		}
	})
}

// FuzzDecoder checks the streaming decoder on arbitrary streams.
func FuzzDecoder(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`<S>a</S><S>b</S>`))
	f.Add([]byte(`<Objs><S>a</S></Objs><Objs><I32>1</I32></Objs>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Fast tokenizer reading all at once, fast tokenizer with small
		// reads (buffer refills mid-token), reference tokenizer.
		var got [3][]Value
		var errs [3]error
		for i, ref := range []bool{false, false, true} {
			var r io.Reader = bytes.NewReader(data)
			if i == 1 {
				r = iotest.HalfReader(iotest.OneByteReader(r))
			}
			d := DecoderOptions{reference: ref}.NewDecoder(r)
			for n := 0; n < 1000; n++ {
				v, err := d.Decode()
				if err != nil {
					if err != io.EOF {
						errs[i] = err
					}
					break
				}
				got[i] = append(got[i], v)
			}
		}
		for k := 1; k < 3; k++ {
			if (errs[0] == nil) != (errs[k] == nil) || len(got[0]) != len(got[k]) {
				t.Fatalf("decoders disagree (variant %d): %d values, %v; %d values, %v", k, len(got[0]), errs[0], len(got[k]), errs[k])
			}
		}
		for i, v := range got[0] {
			if !Equal(v, got[1][i]) || !Equal(v, got[2][i]) {
				t.Fatalf("value %d differs between the decoder variants", i)
			}
			enc, err := Marshal(v)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			v2, err := Unmarshal(enc)
			if err != nil || !Equal(v, v2) {
				t.Fatalf("round trip of value %d failed: %v", i, err)
			}
		}
		if errs[0] != nil && !strings.HasPrefix(errs[0].Error(), "clixml: ") {
			t.Fatalf("error without package prefix: %v", errs[0])
		}
	})
}
