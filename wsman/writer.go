package wsman

import (
	"bytes"
	"encoding/xml"
	"strconv"
)

// xmlWriter serializes Element trees with Windows's prefixes. Known
// namespaces are declared once on the root; any other element namespace
// becomes a default namespace declaration (xmlns="…") on the element that
// needs it, as Windows writes creationXml and connectXml.
type xmlWriter struct {
	b      *bytes.Buffer
	prefix map[string]string // uri -> prefix for known namespaces
	gen    int
}

func newXMLWriter(b *bytes.Buffer) *xmlWriter {
	m := make(map[string]string, len(prefixes))
	for _, p := range prefixes {
		m[p.uri] = p.prefix
	}
	return &xmlWriter{b: b, prefix: m}
}

// root writes e as a document root, declaring every known namespace used in
// the tree. rootAttrs are written before e's own attributes.
func (w *xmlWriter) root(e *Element, rootAttrs []Attr) {
	used := map[string]bool{}
	var walk func(*Element)
	walk = func(x *Element) {
		used[x.Space] = true
		for _, a := range x.Attrs {
			used[a.Space] = true
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(e)
	for _, a := range rootAttrs {
		used[a.Space] = true
	}
	var decl []Attr
	for _, p := range prefixes {
		if used[p.uri] {
			decl = append(decl, Attr{Space: "xmlns", Local: p.prefix, Value: p.uri})
		}
	}
	w.element(e, "", append(rootAttrs, decl...))
}

func (w *xmlWriter) element(e *Element, defaultNS string, extra []Attr) {
	b := w.b
	var name string
	childDefault := defaultNS
	var decls []Attr
	if p, ok := w.prefix[e.Space]; ok {
		name = p + ":" + e.Local
	} else {
		name = e.Local
		if e.Space != defaultNS {
			decls = append(decls, Attr{Local: "xmlns", Value: e.Space})
			childDefault = e.Space
		}
	}
	b.WriteByte('<')
	b.WriteString(name)
	// Attributes: the root's extras (xml:lang, namespace declarations),
	// then the element's own.
	var local map[string]string // unknown attribute namespaces -> generated prefix
	writeAttr := func(a Attr) {
		b.WriteByte(' ')
		switch {
		case a.Space == "xmlns":
			b.WriteString("xmlns:" + a.Local)
		case a.Space == "" || (a.Space == "" && a.Local == "xmlns"):
			b.WriteString(a.Local)
		case a.Space == NSXML:
			b.WriteString("xml:" + a.Local)
		default:
			p, ok := w.prefix[a.Space]
			if !ok {
				if local == nil {
					local = map[string]string{}
				}
				p, ok = local[a.Space]
				if !ok {
					w.gen++
					p = "ns" + strconv.Itoa(w.gen)
					local[a.Space] = p
					decls = append(decls, Attr{Space: "xmlns", Local: p, Value: a.Space})
				}
			}
			b.WriteString(p + ":" + a.Local)
		}
		b.WriteString(`="`)
		escape(b, a.Value)
		b.WriteByte('"')
	}
	for _, a := range extra {
		writeAttr(a)
	}
	for _, a := range e.Attrs {
		writeAttr(a)
	}
	// Declarations discovered above (default namespace, generated prefixes).
	for i := 0; i < len(decls); i++ {
		writeAttr(decls[i])
	}
	if len(e.Children) == 0 && e.Text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	escape(b, e.Text)
	for _, c := range e.Children {
		if c == nil {
			continue
		}
		if c.Space == "" && childDefault != "" {
			// Reset the default namespace for a namespace-less child.
			w.element(c, "", []Attr{{Local: "xmlns", Value: ""}})
			continue
		}
		w.element(c, childDefault, nil)
	}
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// escape writes s as XML character data or attribute content. Characters
// that XML 1.0 cannot represent are replaced with U+FFFD by encoding/xml.
func escape(b *bytes.Buffer, s string) {
	// Fast path: printable ASCII without markup characters (base64
	// payloads, ids, URIs) is written as is.
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' {
			plain = false
			break
		}
	}
	if plain {
		b.WriteString(s)
		return
	}
	_ = xml.EscapeText(b, []byte(s))
}
