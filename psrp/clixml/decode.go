package clixml

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"unsafe"

	"github.com/google/uuid"
)

// Default limits of DecoderOptions.
const (
	DefaultMaxDepth      = 64
	DefaultMaxInputSize  = 64 << 20
	DefaultMaxStringSize = 32 << 20
	DefaultMaxObjects    = 1 << 20
	DefaultMaxStreamRefs = 1 << 20
)

// DecoderOptions configures decoding. A zero field takes its default; a
// negative field means no limit.
type DecoderOptions struct {
	// MaxDepth bounds how deeply values nest: a top-level value is at depth
	// 1, the items, entries and properties of an object one deeper.
	MaxDepth int
	// MaxInputSize bounds the bytes read for one top-level value (for
	// Unmarshal, the whole input).
	MaxInputSize int64
	// MaxStringSize bounds the text of one element or attribute, in bytes.
	MaxStringSize int
	// MaxObjects bounds the <Obj> elements of one top-level value.
	MaxObjects int
	// MaxStreamRefs bounds the RefIds (objects and type-name lists) kept
	// for Ref and TNRef resolution across an <Objs> stream.
	MaxStreamRefs int

	// reference selects the encoding/xml based tokenizer (tests only).
	reference bool
}

func (o DecoderOptions) withDefaults() DecoderOptions {
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxInputSize == 0 {
		o.MaxInputSize = DefaultMaxInputSize
	}
	if o.MaxStringSize == 0 {
		o.MaxStringSize = DefaultMaxStringSize
	}
	if o.MaxObjects == 0 {
		o.MaxObjects = DefaultMaxObjects
	}
	if o.MaxStreamRefs == 0 {
		o.MaxStreamRefs = DefaultMaxStreamRefs
	}
	return o
}

// Unmarshal decodes one CLIXML value, such as the body of a PSRP message
// (`<Obj RefId="0">…</Obj>`, `<S>a</S>`), with the default limits. A
// leading UTF-8 byte order mark and surrounding white space are allowed;
// anything else after the value is an error. Use NewDecoder for CLIXML
// streams (<Objs>).
func Unmarshal(data []byte) (Value, error) {
	return DecoderOptions{}.Unmarshal(data)
}

// Unmarshal decodes one CLIXML value with these options (see the
// package-level Unmarshal).
func (o DecoderOptions) Unmarshal(data []byte) (Value, error) {
	var d *Decoder
	if o.reference {
		d = o.newDecoder(data, nil)
	} else {
		d = decoderPool.Get().(*Decoder)
		d.initBytes(o.withDefaults(), data)
		defer d.release()
	}
	d.single = true
	v, err := d.Decode()
	if err == io.EOF {
		return nil, &SyntaxError{Offset: d.tz.offset(), Msg: "no CLIXML value in input"}
	}
	if err != nil {
		return nil, err
	}
	if err := d.expectEnd(); err != nil {
		return nil, err
	}
	return v, nil
}

// decoderPool keeps Decoders for Unmarshal: their tokenizer buffers, RefId
// tables and interned names are reused from message to message.
var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// initBytes readies a pooled Decoder to decode data.
func (d *Decoder) initBytes(o DecoderOptions, data []byte) {
	var base int64
	if n := clixmlHeaderLen(data); n > 0 {
		data, base = data[n:], int64(n)
	}
	if d.fast == nil {
		d.fast = newFastTokenizer(nil, nil, 0)
	}
	f := d.fast
	*f = fastTokenizer{buf: data, eof: true, limit: -1, maxStr: o.MaxStringSize, base: base,
		scratch: f.scratch, names: f.names}
	d.opts, d.tz = o, f
	d.inObjs, d.single, d.stream, d.err = false, false, "", nil
	d.p.tz, d.p.tok, d.p.opts, d.p.fast = f, &d.tok, &d.opts, f
	d.p.objects = 0
	d.p.stable = true
}

// release clears what a pooled Decoder refers to and returns it to the pool.
func (d *Decoder) release() {
	d.fast.buf = nil
	clear(d.p.propStack[:cap(d.p.propStack)])
	clear(d.p.itemStack[:cap(d.p.itemStack)])
	clear(d.p.entryStack[:cap(d.p.entryStack)])
	clear(d.p.nameStack[:cap(d.p.nameStack)])
	d.tok.text = nil
	d.p.reset()
	if cap(d.p.text) > 64<<10 {
		d.p.text = nil
	}
	for i := range d.fast.scratch {
		if cap(d.fast.scratch[i]) > 64<<10 {
			d.fast.scratch[i] = nil
		}
	}
	decoderPool.Put(d)
}

// Decoder reads CLIXML values one at a time from a stream: bare values one
// after another, or CLIXML files and streams (an optional "#< CLIXML" line,
// then <Objs Version="1.1.0.1" xmlns="…">, whose children are returned one
// by one). It never holds more than the value being decoded, plus the
// objects and type names a later Ref or TNRef in the same <Objs> may name.
type Decoder struct {
	opts   DecoderOptions
	tz     tokenizer
	fast   *fastTokenizer // the tokenizer of a pooled Decoder
	tok    token
	p      parser
	inObjs bool
	single bool
	stream string
	err    error
}

// NewDecoder returns a Decoder reading from r. At most one DecoderOptions
// may be given; zero fields take their defaults.
func NewDecoder(r io.Reader, opts ...DecoderOptions) *Decoder {
	var o DecoderOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	return o.NewDecoder(r)
}

// NewDecoder returns a Decoder with these options reading from r.
func (o DecoderOptions) NewDecoder(r io.Reader) *Decoder {
	return o.newDecoder(nil, r)
}

func (o DecoderOptions) newDecoder(data []byte, r io.Reader) *Decoder {
	o = o.withDefaults()
	d := &Decoder{opts: o}
	var base int64
	if r != nil {
		br := bufio.NewReader(r)
		r = br
		head, _ := br.Peek(64)
		if n := clixmlHeaderLen(head); n > 0 {
			_, _ = br.Discard(n)
			base = int64(n)
		}
	} else if n := clixmlHeaderLen(data); n > 0 {
		data, base = data[n:], int64(n)
	}
	switch {
	case o.reference && r == nil:
		d.tz = newStdTokenizer(bytes.NewReader(data), o.MaxStringSize)
	case o.reference:
		d.tz = newStdTokenizer(r, o.MaxStringSize)
	case r == nil:
		d.tz = newFastTokenizer(data, nil, o.MaxStringSize)
		d.p.stable = true
	default:
		d.tz = newFastTokenizer(nil, r, o.MaxStringSize)
	}
	d.tz.setBase(base)
	d.p.tz, d.p.tok, d.p.opts = d.tz, &d.tok, &d.opts
	d.p.fast, _ = d.tz.(*fastTokenizer)
	return d
}

// Decode returns the next value, or io.EOF when the input ends cleanly.
// After an error other than io.EOF the Decoder is unusable: the same error
// is returned again.
func (d *Decoder) Decode() (Value, error) {
	v, _, err := d.DecodeWithStream()
	return v, err
}

// DecodeWithStream is like Decode and also returns the value's stream
// attribute (S="…", such as "Error", "progress" or "Output" in CLIXML
// streams), or "" when it has none.
func (d *Decoder) DecodeWithStream() (Value, string, error) {
	if d.err != nil {
		return nil, "", d.err
	}
	v, s, err := d.decode()
	if err != nil {
		d.err = err
	}
	d.stream = s
	return v, s, err
}

// Stream returns the stream attribute of the value last returned.
func (d *Decoder) Stream() string { return d.stream }

// InputOffset returns the byte offset in the input just after the last
// token read.
func (d *Decoder) InputOffset() int64 { return d.tz.offset() }

func (d *Decoder) decode() (Value, string, error) {
	start := d.tz.offset()
	if d.opts.MaxInputSize >= 0 {
		d.tz.setLimit(start+d.opts.MaxInputSize, d.opts.MaxInputSize)
	}
	first := start == 0
	for {
		err := d.tz.next(&d.tok)
		if err == io.EOF {
			if d.inObjs {
				return nil, "", &SyntaxError{Offset: d.tz.offset(), Element: "Objs", Msg: "unexpected end of input"}
			}
			return nil, "", io.EOF
		}
		if err != nil {
			return nil, "", err
		}
		switch d.tok.kind {
		case tokText:
			if !topLevelText(d.tok.text, first && !d.inObjs) || (d.inObjs && !isAllSpace(d.tok.text)) {
				return nil, "", &SyntaxError{Offset: d.tz.offset(), Msg: "unexpected text outside a value"}
			}
			first = false
		case tokEnd:
			if d.inObjs && d.tok.name == "Objs" {
				d.inObjs = false
				d.p.reset()
				continue
			}
			return nil, "", &SyntaxError{Offset: d.tz.offset(), Element: d.tok.name, Msg: "unexpected end tag"}
		case tokStart:
			first = false
			if d.tok.name == "Objs" && !d.inObjs {
				if d.single {
					return nil, "", &SyntaxError{Offset: d.tz.offset(), Element: "Objs", Msg: "a CLIXML stream is not one value; use NewDecoder"}
				}
				d.inObjs = true
				d.p.reset()
				continue
			}
			stream, _ := d.tok.attr("S")
			if !d.inObjs {
				d.p.reset()
			}
			d.p.objects = 0
			v, err := d.p.value(1)
			if err != nil {
				return nil, "", err
			}
			return v, DecodeString(stream), nil
		}
	}
}

// clixmlHeaderLen returns the length of a leading "#< CLIXML" line (with
// an optional byte order mark and white space before it), or 0.
func clixmlHeaderLen(b []byte) int {
	i := 0
	if bytes.HasPrefix(b, []byte("\uFEFF")) {
		i = 3
	}
	for i < len(b) && isXMLSpace(b[i]) {
		i++
	}
	if !bytes.HasPrefix(b[i:], []byte("#< CLIXML")) {
		return 0
	}
	return i + len("#< CLIXML")
}

// topLevelText reports whether text between top-level values is allowed:
// white space, and a byte order mark at the very start. (A "#< CLIXML"
// line is removed before tokenizing.)
func topLevelText(b []byte, atStart bool) bool {
	if atStart {
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	}
	return isAllSpace(b)
}

// expectEnd checks that only white space follows the value.
func (d *Decoder) expectEnd() error {
	for {
		err := d.tz.next(&d.tok)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if d.tok.kind != tokText || !isAllSpace(d.tok.text) {
			return &SyntaxError{Offset: d.tz.offset(), Msg: "data after the CLIXML value"}
		}
	}
}

// parser turns tokens into values. The current token is *tok; value is
// called with a start tag in it and returns after consuming its end tag.
type parser struct {
	tz      tokenizer
	tok     *token
	opts    *DecoderOptions
	objs    refTable[*Object]
	tns     refTable[*[]string]
	objects int
	text    []byte
	arena   []byte         // backing store of short decoded strings (see str)
	fast    *fastTokenizer // tz, when it is the fast tokenizer
	// Stacks collecting the properties, items and entries of the objects
	// being decoded; each object's are copied out in one allocation.
	propStack  []Property
	itemStack  []Value
	entryStack []DictEntry
	nameStack  []string
	typeCache  map[string]string // see typeName
	// stable is true when text tokens stay valid while the parser reads
	// the end tag that follows (the input is all in memory).
	stable bool
}

func (p *parser) reset() {
	p.objs.reset()
	p.tns.reset()
}

func (p *parser) syntax(elem, msg string, err error) error {
	return &SyntaxError{Offset: p.tz.offset(), Element: elem, Msg: msg, Err: err}
}

// next reads the next token; io.EOF becomes a syntax error.
func (p *parser) next(elem string) error {
	var err error
	if p.fast != nil {
		err = p.fast.next(p.tok) // a direct call: the common case
	} else {
		err = p.tz.next(p.tok)
	}
	if err == io.EOF {
		return p.syntax(elem, "unexpected end of input", nil)
	}
	return err
}

// leaf reads the text content of the element elem up to its end tag. The
// result is valid until the next token.
func (p *parser) leaf(elem string) ([]byte, error) {
	if p.fast != nil && p.stable {
		text, ok, err := p.fast.leaf(elem)
		if err != nil {
			return nil, err
		}
		if ok {
			return text, nil
		}
	}
	p.text = p.text[:0]
	var single []byte // the only text token so far, not copied (stable input)
	n := 0
	for {
		if err := p.next(elem); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tokText:
			switch {
			case n == 0 && p.stable:
				single = p.tok.text
			case n == 1 && p.stable:
				p.text = append(append(p.text[:0], single...), p.tok.text...)
			default:
				p.text = append(p.text, p.tok.text...)
			}
			n++
			if p.opts.MaxStringSize >= 0 && max(len(p.text), len(single)) > p.opts.MaxStringSize {
				return nil, &LimitError{Limit: "MaxStringSize", Max: int64(p.opts.MaxStringSize), Offset: p.tz.offset()}
			}
		case tokEnd:
			if p.tok.name != elem {
				return nil, p.syntax(elem, "unexpected end tag </"+p.tok.name+">", nil)
			}
			if n == 1 && p.stable {
				return single, nil
			}
			return p.text, nil
		case tokStart:
			return nil, p.syntax(elem, "unexpected element <"+p.tok.name+"> in a primitive value", nil)
		}
	}
}

// empty reads an element that must have no content but white space.
func (p *parser) empty(elem string) error {
	b, err := p.leaf(elem)
	if err != nil {
		return err
	}
	if !isAllSpace(b) {
		return p.syntax(elem, "element must be empty", nil)
	}
	return nil
}

func (p *parser) checkDepth(depth int) error {
	if p.opts.MaxDepth >= 0 && depth > p.opts.MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: int64(p.opts.MaxDepth), Offset: p.tz.offset()}
	}
	return nil
}

// value decodes the value whose start tag is the current token.
func (p *parser) value(depth int) (Value, error) {
	if err := p.checkDepth(depth); err != nil {
		return nil, err
	}
	name := p.tok.name
	switch name {
	case "Obj":
		return p.object(depth)
	case "Ref":
		id, ok := p.tok.attr("RefId")
		if !ok {
			return nil, p.syntax(name, "missing RefId", nil)
		}
		o, ok := p.objs.get(id)
		if !ok {
			return nil, p.syntax(name, "Ref to unknown RefId "+strconv.Quote(id), nil)
		}
		if err := p.empty(name); err != nil {
			return nil, err
		}
		return o, nil
	case "Nil":
		if err := p.empty(name); err != nil {
			return nil, err
		}
		return Nil{}, nil
	case "PR":
		return p.progress()
	}
	if !isPrimitiveTag(name) {
		return nil, p.syntax(name, "unknown element", nil)
	}
	b, err := p.leaf(name)
	if err != nil {
		return nil, err
	}
	v, err := p.primitive(name, b)
	if err != nil {
		return nil, p.syntax(name, "bad value "+quoteShort(b), err)
	}
	return v, nil
}

func quoteShort(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "…"
	}
	return strconv.Quote(string(b))
}

func isPrimitiveTag(name string) bool {
	switch name {
	case "S", "C", "B", "DT", "TS", "By", "SB", "U16", "I16", "U32", "I32", "U64", "I64",
		"Sg", "Db", "D", "BA", "G", "URI", "Version", "XD", "SBK", "SS":
		return true
	}
	return false
}

// primitive converts the text of a primitive element.
func (p *parser) primitive(name string, b []byte) (Value, error) {
	switch name {
	case "S":
		return String(p.str(b)), nil
	case "C":
		n, err := parseUint(b, 16)
		return Char(n), err
	case "B":
		v, err := parseBool(b)
		return Bool(v), err
	case "DT":
		t, err := parseDateTime(b)
		return DateTime{Time: t, Raw: string(trimXMLSpace(b))}, err
	case "TS":
		return parseDuration(b)
	case "By":
		n, err := parseUint(b, 8)
		return UInt8(n), err
	case "SB":
		n, err := parseInt(b, 8)
		return Int8(n), err
	case "U16":
		n, err := parseUint(b, 16)
		return UInt16(n), err
	case "I16":
		n, err := parseInt(b, 16)
		return Int16(n), err
	case "U32":
		n, err := parseUint(b, 32)
		return UInt32(n), err
	case "I32":
		n, err := parseInt(b, 32)
		return Int32(n), err
	case "U64":
		n, err := parseUint(b, 64)
		return UInt64(n), err
	case "I64":
		n, err := parseInt(b, 64)
		return Int64(n), err
	case "Sg":
		f, err := parseFloat(b, 32)
		return Float32(f), err
	case "Db":
		f, err := parseFloat(b, 64)
		return Float64(f), err
	case "D":
		return parseDecimal(b)
	case "BA":
		v, err := parseBase64(b)
		return Bytes(v), err
	case "G":
		u, err := uuid.ParseBytes(trimXMLSpace(b))
		return GUID(u), err
	case "URI":
		return URI(p.str(b)), nil
	case "Version":
		return Version(p.str(trimXMLSpace(b))), nil
	case "XD":
		return XMLDocument(p.str(b)), nil
	case "SBK":
		return ScriptBlock(p.str(b)), nil
	case "SS":
		v, err := parseBase64(b)
		return SecureString(v), err
	}
	return nil, errors.New("unknown primitive")
}

// decodeText converts element text to a string, undoing _xHHHH_ escapes.
func decodeText(b []byte) string {
	if bytes.IndexByte(b, '_') < 0 {
		return string(b)
	}
	return string(appendDecoded(nil, b))
}

// str converts element text to a string, undoing _xHHHH_ escapes. Short
// strings are carved out of an arena, so that one allocation serves many
// strings. The arena is only ever appended to: the strings never change.
func (p *parser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 512 {
		return decodeText(b)
	}
	if cap(p.arena)-len(p.arena) < len(b) {
		p.arena = make([]byte, 0, 4096)
	}
	start := len(p.arena)
	if bytes.IndexByte(b, '_') < 0 {
		p.arena = append(p.arena, b...)
	} else {
		// Decoding never lengthens the text, so this fits in place.
		p.arena = appendDecoded(p.arena, b)
	}
	n := len(p.arena) - start
	if n == 0 {
		return ""
	}
	return unsafe.String(&p.arena[start], n)
}

// skipSpace reads tokens until one that is not white-space text.
func (p *parser) skipSpace(elem string) error {
	for {
		if err := p.next(elem); err != nil {
			return err
		}
		if p.tok.kind != tokText {
			return nil
		}
		if !isAllSpace(p.tok.text) {
			return p.syntax(elem, "unexpected text", nil)
		}
	}
}

func (p *parser) addRef() error {
	if p.opts.MaxStreamRefs >= 0 && p.objs.len()+p.tns.len() >= p.opts.MaxStreamRefs {
		return &LimitError{Limit: "MaxStreamRefs", Max: int64(p.opts.MaxStreamRefs), Offset: p.tz.offset()}
	}
	return nil
}

// object decodes an <Obj>.
func (p *parser) object(depth int) (*Object, error) {
	p.objects++
	if p.opts.MaxObjects >= 0 && p.objects > p.opts.MaxObjects {
		return nil, &LimitError{Limit: "MaxObjects", Max: int64(p.opts.MaxObjects), Offset: p.tz.offset()}
	}
	o := &Object{}
	if id, ok := p.tok.attr("RefId"); ok {
		if _, dup := p.objs.get(id); !dup {
			if err := p.addRef(); err != nil {
				return nil, err
			}
		}
		p.objs.put(id, o)
	}
	var haveTN, haveContent, haveProps, haveMS bool
	for {
		if err := p.skipSpace("Obj"); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != "Obj" {
				return nil, p.syntax("Obj", "unexpected end tag </"+p.tok.name+">", nil)
			}
			return o, nil
		}
		name := p.tok.name
		switch name {
		case "TN", "TNRef":
			if haveTN {
				return nil, p.syntax("Obj", "more than one TN or TNRef", nil)
			}
			haveTN = true
			var err error
			if name == "TN" {
				o.TypeNames, err = p.typeNames()
			} else {
				o.TypeNames, err = p.typeNameRef()
			}
			if err != nil {
				return nil, err
			}
		case "ToString":
			if o.HasToString {
				return nil, p.syntax("Obj", "more than one ToString", nil)
			}
			b, err := p.leaf(name)
			if err != nil {
				return nil, err
			}
			o.ToString, o.HasToString = p.str(b), true
		case "Props", "MS":
			if (name == "Props" && haveProps) || (name == "MS" && haveMS) {
				return nil, p.syntax("Obj", "more than one <"+name+">", nil)
			}
			props, err := p.properties(name, depth)
			if err != nil {
				return nil, err
			}
			if name == "Props" {
				haveProps, o.Adapted = true, props
			} else {
				haveMS, o.Extended = true, props
			}
		case "LST", "IE", "QUE", "STK", "DCT":
			if haveContent {
				return nil, p.syntax("Obj", "more than one content element", nil)
			}
			haveContent = true
			var err error
			if name == "DCT" {
				o.Kind = Dictionary
				o.Entries, err = p.dictionary(depth)
			} else {
				o.Kind = kindOf(name)
				o.Items, err = p.items(name, depth)
			}
			if err != nil {
				return nil, err
			}
		default:
			if haveContent {
				return nil, p.syntax("Obj", "more than one content element", nil)
			}
			haveContent = true
			v, err := p.value(depth)
			if err != nil {
				return nil, err
			}
			o.Inner = v
		}
	}
}

func kindOf(name string) ContainerKind {
	switch name {
	case "LST":
		return List
	case "IE":
		return Enumerable
	case "QUE":
		return Queue
	case "STK":
		return Stack
	case "DCT":
		return Dictionary
	}
	return NoContainer
}

// typeName returns the string of a <T> element. Type names repeat from
// message to message ("System.Object"), so they are kept in a bounded cache
// that pooled decoders share with later messages.
func (p *parser) typeName(b []byte) string {
	if len(b) > 256 || bytes.IndexByte(b, '_') >= 0 {
		return p.str(b)
	}
	if s, ok := p.typeCache[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.typeCache == nil {
		p.typeCache = make(map[string]string)
	}
	if len(p.typeCache) < 2048 {
		p.typeCache[s] = s
	}
	return s
}

// typeNames decodes <TN RefId><T>…</T>…</TN>.
func (p *parser) typeNames() ([]string, error) {
	id, hasID := p.tok.attr("RefId")
	base := len(p.nameStack)
	defer func() { p.nameStack = p.nameStack[:base] }()
	for {
		if err := p.skipSpace("TN"); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != "TN" {
				return nil, p.syntax("TN", "unexpected end tag </"+p.tok.name+">", nil)
			}
			break
		}
		if p.tok.name != "T" {
			return nil, p.syntax("TN", "unexpected element <"+p.tok.name+">", nil)
		}
		b, err := p.leaf("T")
		if err != nil {
			return nil, err
		}
		p.nameStack = append(p.nameStack, p.typeName(b))
	}
	names := append([]string{}, p.nameStack[base:]...)
	if hasID {
		if _, dup := p.tns.get(id); !dup {
			if err := p.addRef(); err != nil {
				return nil, err
			}
		}
		p.tns.put(id, &names)
	}
	return names, nil
}

func (p *parser) typeNameRef() ([]string, error) {
	id, ok := p.tok.attr("RefId")
	if !ok {
		return nil, p.syntax("TNRef", "missing RefId", nil)
	}
	np, ok := p.tns.get(id)
	if !ok {
		return nil, p.syntax("TNRef", "reference to unknown type names RefId "+strconv.Quote(id), nil)
	}
	if err := p.empty("TNRef"); err != nil {
		return nil, err
	}
	return *np, nil
}

// properties decodes <Props> or <MS>: values each named by N.
func (p *parser) properties(elem string, depth int) ([]Property, error) {
	base := len(p.propStack)
	defer func() { p.propStack = p.propStack[:base] }()
	for {
		if err := p.skipSpace(elem); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != elem {
				return nil, p.syntax(elem, "unexpected end tag </"+p.tok.name+">", nil)
			}
			return append([]Property{}, p.propStack[base:]...), nil
		}
		// A property without N has the name "" (the MS-PSRP example of
		// CONNECT_RUNSPACEPOOL has one).
		n, _ := p.tok.attr("N")
		name := DecodeString(n)
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.propStack = append(p.propStack, Property{Name: name, Value: v})
	}
}

// items decodes the values of <LST>, <IE>, <QUE> or <STK>.
func (p *parser) items(elem string, depth int) ([]Value, error) {
	base := len(p.itemStack)
	defer func() { p.itemStack = p.itemStack[:base] }()
	for {
		if err := p.skipSpace(elem); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != elem {
				return nil, p.syntax(elem, "unexpected end tag </"+p.tok.name+">", nil)
			}
			return append([]Value{}, p.itemStack[base:]...), nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.itemStack = append(p.itemStack, v)
	}
}

// dictionary decodes <DCT><En><… N="Key"/><… N="Value"/></En>…</DCT>.
func (p *parser) dictionary(depth int) ([]DictEntry, error) {
	base := len(p.entryStack)
	defer func() { p.entryStack = p.entryStack[:base] }()
	for {
		if err := p.skipSpace("DCT"); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != "DCT" {
				return nil, p.syntax("DCT", "unexpected end tag </"+p.tok.name+">", nil)
			}
			return append([]DictEntry{}, p.entryStack[base:]...), nil
		}
		if p.tok.name != "En" {
			return nil, p.syntax("DCT", "unexpected element <"+p.tok.name+">", nil)
		}
		var e DictEntry
		for {
			if err := p.skipSpace("En"); err != nil {
				return nil, err
			}
			if p.tok.kind == tokEnd {
				if p.tok.name != "En" {
					return nil, p.syntax("En", "unexpected end tag </"+p.tok.name+">", nil)
				}
				break
			}
			n, _ := p.tok.attr("N")
			switch n {
			case "Key", "Value":
			default:
				return nil, p.syntax("En", "entry element without N=\"Key\" or N=\"Value\"", nil)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if n == "Key" {
				if e.Key != nil {
					return nil, p.syntax("En", "more than one Key", nil)
				}
				e.Key = v
			} else {
				if e.Value != nil {
					return nil, p.syntax("En", "more than one Value", nil)
				}
				e.Value = v
			}
		}
		if e.Key == nil || e.Value == nil {
			return nil, p.syntax("En", "entry needs both a Key and a Value", nil)
		}
		p.entryStack = append(p.entryStack, e)
	}
}

// progress decodes a <PR> element.
func (p *parser) progress() (Value, error) {
	var pr ProgressRecord
	for {
		if err := p.skipSpace("PR"); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEnd {
			if p.tok.name != "PR" {
				return nil, p.syntax("PR", "unexpected end tag </"+p.tok.name+">", nil)
			}
			return pr, nil
		}
		name := p.tok.name
		b, err := p.leaf(name)
		if err != nil {
			return nil, err
		}
		var perr error
		switch name {
		case "AV":
			pr.Activity = p.str(b)
		case "SD":
			pr.StatusDescription = p.str(b)
		case "CO":
			pr.CurrentOperation = p.str(b)
		case "T":
			pr.RecordType = p.str(b)
		case "Nil":
			if !isAllSpace(b) {
				perr = errors.New("Nil must be empty")
			}
		case "AI", "PI", "PC", "SR":
			var n int64
			n, perr = parseInt(b, 32)
			switch name {
			case "AI":
				pr.ActivityID = int32(n)
			case "PI":
				pr.ParentActivityID = int32(n)
			case "PC":
				pr.PercentComplete = int32(n)
			case "SR":
				pr.SecondsRemaining = int32(n)
			}
		default:
			return nil, p.syntax("PR", "unknown element <"+name+">", nil)
		}
		if perr != nil {
			return nil, p.syntax(name, "bad value "+quoteShort(b), perr)
		}
	}
}
