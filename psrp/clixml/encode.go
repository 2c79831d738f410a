package clixml

import (
	"encoding/base64"
	"io"
	"strconv"
	"strings"
)

// DefaultEncoderMaxDepth is the default EncoderOptions.MaxDepth, equal to
// the decoder's default so that what is encoded can be decoded.
const DefaultEncoderMaxDepth = DefaultMaxDepth

// EncoderOptions configures encoding. A zero field takes its default; a
// negative MaxDepth means no limit.
type EncoderOptions struct {
	// MaxDepth bounds how deeply values nest, counted as in DecoderOptions.
	MaxDepth int
}

// Marshal encodes v as one CLIXML value in the form Windows PowerShell
// writes: no XML declaration, no white space, RefIds numbered from 0 in
// document order, a TNRef for type names already written, a Ref for an
// *Object already written (which also makes cycles finite), strings
// _xHHHH_-escaped as .NET does (see EncodeString) and XML-escaped.
// A nil Value, or a nil *Object, is written as <Nil />.
func Marshal(v Value) ([]byte, error) {
	return EncoderOptions{}.Marshal(v)
}

// Marshal encodes v with these options (see the package-level Marshal).
func (o EncoderOptions) Marshal(v Value) ([]byte, error) {
	e := newEncState(o)
	if err := e.value(v, "", false, 1); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// AppendMarshal appends the encoding of v to b.
func AppendMarshal(b []byte, v Value) ([]byte, error) {
	e := newEncState(EncoderOptions{})
	e.buf = b
	if err := e.value(v, "", false, 1); err != nil {
		return b, err
	}
	return e.buf, nil
}

// Encoder writes CLIXML values to a stream, one Write per value. Each value
// is numbered on its own (RefIds from 0), as PSRP messages are.
type Encoder struct {
	w io.Writer
	e *encState
}

// NewEncoder returns an Encoder writing to w with the default options.
func NewEncoder(w io.Writer) *Encoder { return EncoderOptions{}.NewEncoder(w) }

// NewEncoder returns an Encoder with these options writing to w.
func (o EncoderOptions) NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, e: newEncState(o)}
}

// Encode writes one value.
func (enc *Encoder) Encode(v Value) error {
	enc.e.reset()
	if err := enc.e.value(v, "", false, 1); err != nil {
		return err
	}
	_, err := enc.w.Write(enc.e.buf)
	return err
}

type encState struct {
	opts   EncoderOptions
	buf    []byte
	stream string // S attribute for the next element opened
	objs   map[*Object]int
	tns    map[string]int
	nextO  int
	nextT  int
}

func newEncState(o EncoderOptions) *encState {
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultEncoderMaxDepth
	}
	return &encState{opts: o}
}

func (e *encState) reset() {
	e.buf = e.buf[:0]
	clear(e.objs)
	clear(e.tns)
	e.nextO, e.nextT = 0, 0
}

// open writes "<tag" with the N attribute when named.
func (e *encState) open(tag, name string, named bool) error {
	e.buf = append(e.buf, '<')
	e.buf = append(e.buf, tag...)
	if named {
		e.buf = append(e.buf, ` N="`...)
		var err error
		e.buf, err = appendEscaped(e.buf, name, xmlAttr)
		if err != nil {
			return &EncodeError{Path: "property name " + strconv.Quote(name), Msg: err.Error()}
		}
		e.buf = append(e.buf, '"')
	}
	if e.stream != "" { // the top-level element of a stream
		e.buf = append(e.buf, ` S="`...)
		var err error
		e.buf, err = appendEscaped(e.buf, e.stream, xmlAttr)
		if err != nil {
			return &EncodeError{Path: "stream name " + strconv.Quote(e.stream), Msg: err.Error()}
		}
		e.buf = append(e.buf, '"')
		e.stream = ""
	}
	return nil
}

func (e *encState) close(tag string) {
	e.buf = append(e.buf, '<', '/')
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '>')
}

// leaf writes <tag N="name">text</tag> with text already in final form.
func (e *encState) leafRaw(tag, name string, named bool, text []byte) error {
	if err := e.open(tag, name, named); err != nil {
		return err
	}
	e.buf = append(e.buf, '>')
	e.buf = append(e.buf, text...)
	e.close(tag)
	return nil
}

// leafString writes an escaped string element.
func (e *encState) leafString(tag, name string, named bool, s string) error {
	if err := e.open(tag, name, named); err != nil {
		return err
	}
	e.buf = append(e.buf, '>')
	var err error
	e.buf, err = appendEscaped(e.buf, s, xmlText)
	if err != nil {
		return &EncodeError{Path: "<" + tag + ">", Msg: err.Error()}
	}
	e.close(tag)
	return nil
}

func (e *encState) value(v Value, name string, named bool, depth int) error {
	if e.opts.MaxDepth >= 0 && depth > e.opts.MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: int64(e.opts.MaxDepth), Offset: -1}
	}
	var num [40]byte
	switch v := v.(type) {
	case nil:
		return e.nilValue(name, named)
	case Nil:
		return e.nilValue(name, named)
	case *Object:
		if v == nil {
			return e.nilValue(name, named)
		}
		return e.object(v, name, named, depth)
	case ProgressRecord:
		return e.progress(v, name, named)
	case String:
		return e.leafString("S", name, named, string(v))
	case Char:
		return e.leafRaw("C", name, named, strconv.AppendUint(num[:0], uint64(v), 10))
	case Bool:
		return e.leafRaw("B", name, named, strconv.AppendBool(num[:0], bool(v)))
	case DateTime:
		if v.Raw != "" {
			if _, err := parseDateTime([]byte(v.Raw)); err != nil {
				return &EncodeError{Path: "<DT>", Msg: "Raw is not an xs:dateTime: " + strconv.Quote(v.Raw)}
			}
			return e.leafString("DT", name, named, v.Raw)
		}
		return e.leafRaw("DT", name, named, appendDateTime(num[:0], v.Time))
	case Duration:
		return e.leafRaw("TS", name, named, appendDuration(num[:0], v))
	case UInt8:
		return e.leafRaw("By", name, named, strconv.AppendUint(num[:0], uint64(v), 10))
	case Int8:
		return e.leafRaw("SB", name, named, strconv.AppendInt(num[:0], int64(v), 10))
	case UInt16:
		return e.leafRaw("U16", name, named, strconv.AppendUint(num[:0], uint64(v), 10))
	case Int16:
		return e.leafRaw("I16", name, named, strconv.AppendInt(num[:0], int64(v), 10))
	case UInt32:
		return e.leafRaw("U32", name, named, strconv.AppendUint(num[:0], uint64(v), 10))
	case Int32:
		return e.leafRaw("I32", name, named, strconv.AppendInt(num[:0], int64(v), 10))
	case UInt64:
		return e.leafRaw("U64", name, named, strconv.AppendUint(num[:0], uint64(v), 10))
	case Int64:
		return e.leafRaw("I64", name, named, strconv.AppendInt(num[:0], int64(v), 10))
	case Float32:
		return e.leafRaw("Sg", name, named, appendFloat(num[:0], float64(v), 32))
	case Float64:
		return e.leafRaw("Db", name, named, appendFloat(num[:0], float64(v), 64))
	case Decimal:
		if _, err := parseDecimal([]byte(v)); err != nil {
			return &EncodeError{Path: "<D>", Msg: "invalid decimal " + strconv.Quote(string(v))}
		}
		return e.leafString("D", name, named, string(v))
	case Bytes:
		return e.leafRaw("BA", name, named, base64.StdEncoding.AppendEncode(nil, v))
	case GUID:
		return e.leafRaw("G", name, named, []byte(uuidString(v)))
	case URI:
		return e.leafString("URI", name, named, string(v))
	case Version:
		return e.leafString("Version", name, named, string(v))
	case XMLDocument:
		return e.leafString("XD", name, named, string(v))
	case ScriptBlock:
		return e.leafString("SBK", name, named, string(v))
	case SecureString:
		return e.leafRaw("SS", name, named, base64.StdEncoding.AppendEncode(nil, v))
	}
	return &EncodeError{Msg: "unsupported value type"}
}

func uuidString(g GUID) string {
	b := [16]byte(g)
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&0xF])
	}
	return string(out)
}

func (e *encState) nilValue(name string, named bool) error {
	if err := e.open("Nil", name, named); err != nil {
		return err
	}
	e.buf = append(e.buf, " />"...)
	return nil
}

func (e *encState) object(o *Object, name string, named bool, depth int) error {
	if id, ok := e.objs[o]; ok {
		if err := e.open("Ref", name, named); err != nil {
			return err
		}
		e.buf = append(e.buf, ` RefId="`...)
		e.buf = strconv.AppendInt(e.buf, int64(id), 10)
		e.buf = append(e.buf, `" />`...)
		return nil
	}
	if e.objs == nil {
		e.objs = make(map[*Object]int)
	}
	id := e.nextO
	e.nextO++
	e.objs[o] = id
	if err := e.open("Obj", name, named); err != nil {
		return err
	}
	e.buf = append(e.buf, ` RefId="`...)
	e.buf = strconv.AppendInt(e.buf, int64(id), 10)
	e.buf = append(e.buf, `">`...)
	if o.TypeNames != nil {
		key := strings.Join(o.TypeNames, "\x00")
		if tid, ok := e.tns[key]; ok {
			e.buf = append(e.buf, `<TNRef RefId="`...)
			e.buf = strconv.AppendInt(e.buf, int64(tid), 10)
			e.buf = append(e.buf, `" />`...)
		} else {
			if e.tns == nil {
				e.tns = make(map[string]int)
			}
			tid := e.nextT
			e.nextT++
			e.tns[key] = tid
			e.buf = append(e.buf, `<TN RefId="`...)
			e.buf = strconv.AppendInt(e.buf, int64(tid), 10)
			e.buf = append(e.buf, `">`...)
			for _, t := range o.TypeNames {
				if err := e.leafString("T", "", false, t); err != nil {
					return err
				}
			}
			e.buf = append(e.buf, "</TN>"...)
		}
	}
	if o.HasToString || o.ToString != "" {
		if err := e.leafString("ToString", "", false, o.ToString); err != nil {
			return err
		}
	}
	if o.Inner != nil {
		if o.Kind != NoContainer {
			return &EncodeError{Path: "<Obj>", Msg: "an object cannot have both Inner and a container Kind"}
		}
		if err := e.value(o.Inner, "", false, depth); err != nil {
			return err
		}
	}
	switch o.Kind {
	case NoContainer:
		if len(o.Items) > 0 || len(o.Entries) > 0 {
			return &EncodeError{Path: "<Obj>", Msg: "Items or Entries set but Kind is NoContainer"}
		}
	case List, Enumerable, Queue, Stack:
		if len(o.Entries) > 0 {
			return &EncodeError{Path: "<Obj>", Msg: "Entries set on a non-dictionary container"}
		}
		tag := [...]string{List: "LST", Enumerable: "IE", Queue: "QUE", Stack: "STK"}[o.Kind]
		if e.emptyElement(tag, len(o.Items)) {
			break
		}
		for _, it := range o.Items {
			if err := e.value(it, "", false, depth+1); err != nil {
				return err
			}
		}
		e.close(tag)
	case Dictionary:
		if len(o.Items) > 0 {
			return &EncodeError{Path: "<Obj>", Msg: "Items set on a dictionary"}
		}
		if e.emptyElement("DCT", len(o.Entries)) {
			break
		}
		for _, en := range o.Entries {
			e.buf = append(e.buf, "<En>"...)
			if err := e.value(en.Key, "Key", true, depth+1); err != nil {
				return err
			}
			if err := e.value(en.Value, "Value", true, depth+1); err != nil {
				return err
			}
			e.buf = append(e.buf, "</En>"...)
		}
		e.buf = append(e.buf, "</DCT>"...)
	default:
		return &EncodeError{Path: "<Obj>", Msg: "unknown container kind " + strconv.Itoa(int(o.Kind))}
	}
	if o.Adapted != nil {
		if err := e.props("Props", o.Adapted, depth); err != nil {
			return err
		}
	}
	if o.Extended != nil {
		if err := e.props("MS", o.Extended, depth); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, "</Obj>"...)
	return nil
}

// emptyElement writes <tag /> when n is 0 (as .NET's XmlWriter does for an
// element without content), or the start tag <tag>, and reports which.
func (e *encState) emptyElement(tag string, n int) bool {
	e.buf = append(e.buf, '<')
	e.buf = append(e.buf, tag...)
	if n == 0 {
		e.buf = append(e.buf, " />"...)
		return true
	}
	e.buf = append(e.buf, '>')
	return false
}

func (e *encState) props(tag string, props []Property, depth int) error {
	if e.emptyElement(tag, len(props)) {
		return nil
	}
	for _, p := range props {
		if err := e.value(p.Value, p.Name, p.Name != "", depth+1); err != nil {
			return err
		}
	}
	e.close(tag)
	return nil
}

func (e *encState) progress(pr ProgressRecord, name string, named bool) error {
	if err := e.open("PR", name, named); err != nil {
		return err
	}
	e.buf = append(e.buf, '>')
	var num [16]byte
	if err := e.leafString("AV", "", false, pr.Activity); err != nil {
		return err
	}
	_ = e.leafRaw("AI", "", false, strconv.AppendInt(num[:0], int64(pr.ActivityID), 10))
	if pr.CurrentOperation == "" {
		e.buf = append(e.buf, "<Nil />"...)
	} else if err := e.leafString("CO", "", false, pr.CurrentOperation); err != nil {
		return err
	}
	_ = e.leafRaw("PI", "", false, strconv.AppendInt(num[:0], int64(pr.ParentActivityID), 10))
	_ = e.leafRaw("PC", "", false, strconv.AppendInt(num[:0], int64(pr.PercentComplete), 10))
	if err := e.leafString("T", "", false, pr.RecordType); err != nil {
		return err
	}
	_ = e.leafRaw("SR", "", false, strconv.AppendInt(num[:0], int64(pr.SecondsRemaining), 10))
	if err := e.leafString("SD", "", false, pr.StatusDescription); err != nil {
		return err
	}
	e.buf = append(e.buf, "</PR>"...)
	return nil
}

// StreamEncoder writes a CLIXML stream as Export-Clixml and "#< CLIXML"
// output carry it: a "#< CLIXML" line, <Objs Version="1.1.0.1" xmlns="…">,
// one element per value with its stream attribute, </Objs>. As in
// PowerShell, RefIds run on across the values of the stream, so an object
// written in an earlier value becomes a <Ref>. NewDecoder reads it back.
type StreamEncoder struct {
	w       io.Writer
	e       *encState
	started bool
	closed  bool
}

// NewStreamEncoder returns a StreamEncoder writing to w.
func NewStreamEncoder(w io.Writer) *StreamEncoder {
	return &StreamEncoder{w: w, e: newEncState(EncoderOptions{})}
}

const objsStart = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"

// Encode writes v with the stream attribute stream ("" for none; PowerShell
// uses names such as "Error", "Warning", "progress").
func (s *StreamEncoder) Encode(v Value, stream string) error {
	if s.closed {
		return &EncodeError{Msg: "stream already closed"}
	}
	s.e.buf = s.e.buf[:0]
	if !s.started {
		s.e.buf = append(s.e.buf, objsStart...)
		s.started = true
	}
	s.e.stream = stream
	err := s.e.value(v, "", false, 1)
	s.e.stream = ""
	if err != nil {
		return err
	}
	_, err = s.w.Write(s.e.buf)
	return err
}

// Close writes the end of the stream (</Objs>). It does not close w.
func (s *StreamEncoder) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	b := []byte("</Objs>")
	if !s.started {
		b = append([]byte(objsStart), b...)
	}
	_, err := s.w.Write(b)
	return err
}
