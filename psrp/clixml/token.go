package clixml

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
)

// tokKind is the kind of an XML token as the CLIXML parser sees it.
type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokStart         // start tag (an empty-element tag yields tokStart then tokEnd)
	tokEnd           // end tag
	tokText          // character data (entities resolved, CDATA included)
)

// xattr is one attribute of a start tag.
type xattr struct {
	name  string
	value string
}

// token is the current token of a tokenizer. text and attrs are only valid
// until the next call to next.
type token struct {
	kind  tokKind
	name  string
	attrs []xattr
	text  []byte
}

// attr returns the value of the named attribute.
func (t *token) attr(name string) (string, bool) {
	for i := range t.attrs {
		if t.attrs[i].name == name {
			return t.attrs[i].value, true
		}
	}
	return "", false
}

// tokenizer produces the XML tokens the parser consumes: comments and
// processing instructions are skipped, DOCTYPE declarations rejected.
// next returns io.EOF at the end of the input.
type tokenizer interface {
	next(t *token) error
	// offset returns the byte offset just after the last token.
	offset() int64
	// setLimit makes reading past the absolute byte offset max fail with a
	// *LimitError for MaxInputSize (max < 0: no limit).
	setLimit(max, configured int64)
	// setBase adds n to all offsets (bytes skipped before tokenizing).
	setBase(n int64)
}

// stdTokenizer is the reference tokenizer built on encoding/xml's RawToken.
type stdTokenizer struct {
	d      *xml.Decoder
	cr     *countingReader
	base   int64
	maxStr int
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (s *stdTokenizer) checkName(n string) error {
	if !isASCII(n) {
		return &SyntaxError{Offset: s.offset(), Msg: "malformed XML", Err: errors.New("non-ASCII XML name")}
	}
	return nil
}

func (s *stdTokenizer) checkString(n int) error {
	if s.maxStr >= 0 && n > s.maxStr {
		return &LimitError{Limit: "MaxStringSize", Max: int64(s.maxStr), Offset: s.offset()}
	}
	return nil
}

func newStdTokenizer(r io.Reader, maxString int) *stdTokenizer {
	cr := &countingReader{limit: -1}
	if br, ok := r.(io.ByteReader); ok {
		cr.r, cr.br = r, br
	} else {
		b := bufio.NewReader(r)
		cr.r, cr.br = b, b
	}
	d := xml.NewDecoder(cr)
	d.Strict = true
	return &stdTokenizer{d: d, cr: cr, maxStr: maxString}
}

func (s *stdTokenizer) offset() int64 { return s.base + s.d.InputOffset() }

func (s *stdTokenizer) setBase(n int64) { s.base = n }

func (s *stdTokenizer) setLimit(max, configured int64) {
	s.cr.limit, s.cr.configured = max-s.base, configured
}

func (s *stdTokenizer) next(t *token) error {
	for {
		tok, err := s.d.RawToken()
		if err != nil {
			if err == io.EOF {
				t.kind = tokEOF
				return io.EOF
			}
			var le *LimitError
			if errors.As(err, &le) {
				return le
			}
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &SyntaxError{Offset: s.d.InputOffset(), Msg: "malformed XML", Err: errors.New(se.Msg)}
			}
			return &SyntaxError{Offset: s.d.InputOffset(), Msg: "malformed XML", Err: err}
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			t.kind = tokStart
			t.name = qname(tok.Name)
			if err := s.checkName(t.name); err != nil {
				return err
			}
			t.attrs = t.attrs[:0]
			for _, a := range tok.Attr {
				n := qname(a.Name)
				if err := s.checkName(n); err != nil {
					return err
				}
				if err := s.checkString(len(a.Value)); err != nil {
					return err
				}
				if _, dup := t.attr(n); dup {
					return &SyntaxError{Offset: s.offset(), Msg: "malformed XML", Err: errors.New("duplicate attribute " + n)}
				}
				t.attrs = append(t.attrs, xattr{name: n, value: a.Value})
			}
			return nil
		case xml.EndElement:
			t.kind = tokEnd
			t.name = qname(tok.Name)
			return s.checkName(t.name)
		case xml.CharData:
			t.kind = tokText
			t.text = tok
			return s.checkString(len(tok))
		case xml.ProcInst:
			if err := s.checkName(tok.Target); err != nil {
				return err
			}
		case xml.Directive:
			return &SyntaxError{Offset: s.d.InputOffset(), Msg: "XML directives (DOCTYPE) are not allowed"}
		default: // comments
		}
	}
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// countingReader counts the bytes read and enforces MaxInputSize.
type countingReader struct {
	r          io.Reader
	br         io.ByteReader
	n          int64
	limit      int64
	configured int64
}

func (c *countingReader) limitErr() error {
	return &LimitError{Limit: "MaxInputSize", Max: c.configured, Offset: c.n}
}

// Read implements io.Reader.
func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n >= c.limit {
			return 0, c.limitErr()
		}
		if rem := c.limit - c.n; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadByte implements io.ByteReader.
func (c *countingReader) ReadByte() (byte, error) {
	if c.limit >= 0 && c.n >= c.limit {
		if _, err := c.br.ReadByte(); err != nil {
			return 0, err // the input ends exactly at the limit
		}
		return 0, c.limitErr()
	}
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
