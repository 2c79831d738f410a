package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Element is a namespace-resolved XML element: the generic tree the envelope
// layer parses into and serializes from. Space is the namespace URI (never a
// prefix); the writer chooses the prefixes Windows uses for known namespaces.
type Element struct {
	Space    string     // namespace URI
	Local    string     // local name
	Attrs    []Attr     // attributes, in document order
	Children []*Element // child elements, in document order
	// Text is the character data directly inside the element (the
	// concatenation of its text nodes; text between child elements is kept
	// too). Accessors such as ChildText trim surrounding white space.
	Text string
}

// Attr is a namespace-resolved XML attribute. Namespace declarations
// (xmlns, xmlns:p) are not kept as attributes.
type Attr struct {
	Space string // namespace URI; empty for unqualified attributes
	Local string // local name
	Value string // unescaped value
}

// NewElement returns an element with the given namespace URI and local name.
func NewElement(space, local string) *Element {
	return &Element{Space: space, Local: local}
}

// SetAttr sets (or replaces) an attribute and returns e.
func (e *Element) SetAttr(space, local, value string) *Element {
	for i := range e.Attrs {
		if e.Attrs[i].Space == space && e.Attrs[i].Local == local {
			e.Attrs[i].Value = value
			return e
		}
	}
	e.Attrs = append(e.Attrs, Attr{Space: space, Local: local, Value: value})
	return e
}

// SetText sets the element's character data and returns e.
func (e *Element) SetText(s string) *Element {
	e.Text = s
	return e
}

// Add appends children and returns e. Nil children are skipped.
func (e *Element) Add(children ...*Element) *Element {
	for _, c := range children {
		if c != nil {
			e.Children = append(e.Children, c)
		}
	}
	return e
}

// AddText appends a child element holding text and returns e (the parent).
func (e *Element) AddText(space, local, text string) *Element {
	return e.Add(&Element{Space: space, Local: local, Text: text})
}

// Attr returns the value of an attribute. An attribute written without a
// prefix has Space "". For convenience, when space is "" the lookup also
// matches a namespaced attribute with that local name.
func (e *Element) Attr(space, local string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, a := range e.Attrs {
		if a.Local == local && a.Space == space {
			return a.Value, true
		}
	}
	if space == "" {
		for _, a := range e.Attrs {
			if a.Local == local {
				return a.Value, true
			}
		}
	}
	return "", false
}

// Is reports whether e has the given namespace and local name.
func (e *Element) Is(space, local string) bool {
	return e != nil && e.Space == space && e.Local == local
}

// Child returns the first child with the namespace and local name, or nil.
// Child on a nil element returns nil, so lookups can be chained.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Space == space && c.Local == local {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns every child with the namespace and local name.
func (e *Element) ChildrenNamed(space, local string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Space == space && c.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// ChildText returns the trimmed text of the first matching child, or "".
func (e *Element) ChildText(space, local string) string {
	c := e.Child(space, local)
	if c == nil {
		return ""
	}
	return strings.TrimSpace(c.Text)
}

// TrimmedText returns e's text without surrounding white space ("" for nil).
func (e *Element) TrimmedText() string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text)
}

// Clone returns a deep copy of e.
func (e *Element) Clone() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Space: e.Space, Local: e.Local, Text: e.Text}
	c.Attrs = append([]Attr(nil), e.Attrs...)
	for _, ch := range e.Children {
		c.Children = append(c.Children, ch.Clone())
	}
	return c
}

// String renders e as XML (with the writer's prefixes), for debugging and
// tests.
func (e *Element) String() string {
	var b bytes.Buffer
	w := newXMLWriter(&b)
	w.root(e, nil)
	return b.String()
}

// Limits bound what the parser accepts from a peer. The zero value of a
// field means its default.
type Limits struct {
	// MaxBytes caps the size of a document (default 16 MiB).
	MaxBytes int64
	// MaxDepth caps element nesting (default 64).
	MaxDepth int
	// MaxElements caps the number of elements, and separately the number
	// of attributes in the whole document (default 200 000).
	MaxElements int
	// MaxAttributes caps the attributes (namespace declarations
	// included) of one element (default 256).
	MaxAttributes int
	// MaxTagBytes caps the length of one start tag, its attribute values
	// included (default 64 KiB). Element text (base64 stream data, PSRP
	// payloads) is not bounded by it.
	MaxTagBytes int
}

// Default parser limits.
const (
	DefaultMaxDocumentBytes = 16 << 20
	DefaultMaxDepth         = 64
	DefaultMaxXMLElements   = 200000
	DefaultMaxAttributes    = 256
	DefaultMaxTagBytes      = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxDocumentBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxXMLElements
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	if l.MaxTagBytes <= 0 {
		l.MaxTagBytes = DefaultMaxTagBytes
	}
	return l
}

// checkTags bounds the start tags of data before encoding/xml sees them:
// the decoder materialises every attribute of a tag at once (tens of bytes
// of allocation per attribute byte), so a hostile peer could otherwise turn
// a document within MaxBytes into hundreds of megabytes of garbage. It
// skips comments, CDATA sections, processing instructions and declarations;
// anything malformed is left to the decoder to report.
func checkTags(data []byte, lim Limits) error {
	total := 0
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return nil
		}
		i += j
		rest := data[i:]
		var end []byte
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = []byte("]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("</")):
			end = []byte(">")
		}
		if end != nil {
			k := bytes.Index(rest[1:], end)
			if k < 0 {
				return nil
			}
			i += 1 + k + len(end)
			continue
		}
		// A start tag: up to the first '>' outside quotes.
		attrs := 0
		var quote byte
		k := 1
		for ; k < len(rest); k++ {
			c := rest[k]
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				continue
			}
			if c == '"' || c == '\'' {
				quote = c
			} else if c == '=' {
				attrs++
			} else if c == '>' {
				break
			}
		}
		if k > lim.MaxTagBytes {
			return &XMLError{Msg: fmt.Sprintf("start tag longer than %d bytes", lim.MaxTagBytes), Err: ErrLimit}
		}
		if attrs > lim.MaxAttributes {
			return &XMLError{Msg: fmt.Sprintf("more than %d attributes on one element", lim.MaxAttributes), Err: ErrLimit}
		}
		if total += attrs; total > lim.MaxElements {
			return &XMLError{Msg: fmt.Sprintf("more than %d attributes", lim.MaxElements), Err: ErrLimit}
		}
		i += k
	}
	return nil
}

// ErrLimit is wrapped by parse errors caused by a configured Limits bound.
var ErrLimit = errors.New("wsman: XML limit exceeded")

// XMLError reports malformed or unexpected XML from a peer.
type XMLError struct {
	Msg string // what is wrong
	Err error  // the cause (a decoder error, or ErrLimit), if any
}

// Error implements the error interface.
func (e *XMLError) Error() string {
	if e.Err != nil {
		return "wsman: bad XML: " + e.Msg + ": " + e.Err.Error()
	}
	return "wsman: bad XML: " + e.Msg
}

// Unwrap returns the underlying error.
func (e *XMLError) Unwrap() error { return e.Err }

// ParseElement parses one XML document into an Element tree, enforcing lim.
// Prefixes that are not declared are an error (a namespace-less document
// is accepted).
func ParseElement(data []byte, lim Limits) (*Element, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, &XMLError{Msg: fmt.Sprintf("document of %d bytes exceeds %d", len(data), lim.MaxBytes), Err: ErrLimit}
	}
	if err := checkTags(data, lim); err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var (
		stack []*Element
		texts [][]byte // character data of each open element
		root  *Element
		count int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &XMLError{Msg: "syntax", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, &XMLError{Msg: "more than one root element"}
			}
			count++
			if count > lim.MaxElements {
				return nil, &XMLError{Msg: fmt.Sprintf("more than %d elements", lim.MaxElements), Err: ErrLimit}
			}
			if len(stack) >= lim.MaxDepth {
				return nil, &XMLError{Msg: fmt.Sprintf("nesting deeper than %d", lim.MaxDepth), Err: ErrLimit}
			}
			if err := checkResolved(t.Name); err != nil {
				return nil, err
			}
			el := &Element{Space: t.Name.Space, Local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if err := checkResolved(a.Name); err != nil {
					return nil, err
				}
				el.Attrs = append(el.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, el)
			} else {
				root = el
			}
			stack = append(stack, el)
			texts = append(texts, nil)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, &XMLError{Msg: "unbalanced end element"}
			}
			stack[len(stack)-1].Text = string(texts[len(texts)-1])
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(stack) > 0 {
				texts[len(texts)-1] = append(texts[len(texts)-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, &XMLError{Msg: "text outside the root element"}
			}
		}
	}
	if root == nil {
		return nil, &XMLError{Msg: "no root element"}
	}
	if len(stack) != 0 {
		return nil, &XMLError{Msg: "unexpected end of document"}
	}
	return root, nil
}

// checkResolved rejects names whose prefix was not declared: encoding/xml
// leaves such a prefix in Name.Space instead of a URI.
func checkResolved(n xml.Name) error {
	if n.Space == "" || strings.Contains(n.Space, ":") {
		return nil
	}
	return &XMLError{Msg: fmt.Sprintf("undeclared namespace prefix %q on %q", n.Space, n.Local)}
}
