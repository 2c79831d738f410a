package wsman

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Selector is one wsman:Selector of a SelectorSet (for example ShellId).
type Selector struct {
	Name  string // e.g. SelectorShellID
	Value string // the selector's text
}

// Option is one wsman:Option of an OptionSet.
type Option struct {
	Name       string // e.g. OptionProtocolVersion
	Value      string // the option's text
	MustComply bool   // the MustComply attribute
	// Type is the optional Type attribute (rarely used).
	Type string
}

// Header holds the SOAP header fields WS-Management uses. Empty fields are
// not written. The same type describes requests and responses.
type Header struct {
	Action    string // wsa:Action URI
	To        string // wsa:To: the endpoint URL, or AnonymousAddress on responses
	ReplyTo   string // the wsa:ReplyTo/wsa:Address; requests use AnonymousAddress
	MessageID string // "uuid:" + upper-case UUID
	RelatesTo string // on responses: the request's MessageID

	ResourceURI      string        // wsman:ResourceURI
	MaxEnvelopeSize  int           // bytes; 0 = absent
	OperationTimeout time.Duration // 0 = absent
	Locale           string        // wsman:Locale xml:lang
	DataLocale       string        // wsmv:DataLocale xml:lang
	SessionID        string        // wsmv:SessionId, "uuid:" + upper-case UUID
	ActivityID       string        // wsmv:ActivityId (responses)

	// OperationID and SequenceID are the MS-WSMV robust-connection headers
	// (wsmv:OperationID, wsmv:SequenceId); kept verbatim.
	OperationID string // wsmv:OperationID
	SequenceID  string // wsmv:SequenceId
	// Retransmission is the s:mustUnderstand="true" of wsmv:OperationID,
	// which marks a request as the retransmission of an earlier one with
	// the same OperationID (MS-WSMV 3.1.4.1.39); false writes "false".
	Retransmission bool

	Selectors []Selector // wsman:SelectorSet
	Options   []Option   // wsman:OptionSet

	// Invalid names the known header elements whose values could not be
	// parsed (their fields are left zero), e.g. "OperationTimeout" for
	// PT-1S. A server answers such a request with the
	// a:InvalidMessageInformationHeader fault (see InvalidHeaderFault).
	Invalid []string

	// Extra holds further header elements: on parse, every header element
	// not mapped to a field above; on marshal, written after the known
	// headers. This is how per-request headers are added.
	Extra []*Element
}

// Selector returns the value of the named selector (names compare
// case-insensitively, as WinRM does).
func (h *Header) Selector(name string) (string, bool) {
	for _, s := range h.Selectors {
		if strings.EqualFold(s.Name, name) {
			return s.Value, true
		}
	}
	return "", false
}

// Option returns the named option (case-insensitive name).
func (h *Header) Option(name string) (Option, bool) {
	for _, o := range h.Options {
		if strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return Option{}, false
}

// ShellID returns the ShellId selector value.
func (h *Header) ShellID() string {
	v, _ := h.Selector(SelectorShellID)
	return v
}

// Envelope is a parsed or to-be-written SOAP envelope.
type Envelope struct {
	// Header is the SOAP header.
	Header Header
	// Body holds the children of s:Body (usually one; a CreateResponse has
	// x:ResourceCreated and rsp:Shell).
	Body []*Element
}

// BodyElement returns the first body child, or nil for an empty body.
func (e *Envelope) BodyElement() *Element {
	if e == nil || len(e.Body) == 0 {
		return nil
	}
	return e.Body[0]
}

// NewMessageID returns a new "uuid:" + upper-case UUID message id.
func NewMessageID() string {
	return "uuid:" + strings.ToUpper(uuid.NewString())
}

// NewSessionID returns a new client session id in the wsmv:SessionId form.
func NewSessionID() string { return NewMessageID() }

// IsFault reports whether the envelope's body is a SOAP fault.
func (e *Envelope) IsFault() bool {
	return e.BodyElement().Is(NSSoap, "Fault")
}

// Marshal serializes the envelope with Windows's prefixes (s:, a:, w:, p:,
// rsp:, x:, n:, f:). A request (RelatesTo empty) carries s:mustUnderstand
// attributes the way WinRM clients send them; a response (RelatesTo set)
// does not, as Windows writes its responses.
func (e *Envelope) Marshal() []byte {
	var b bytes.Buffer
	e.WriteTo(&b)
	return b.Bytes()
}

// WriteTo appends the serialized envelope to b.
func (e *Envelope) WriteTo(b *bytes.Buffer) {
	env := NewElement(NSSoap, "Envelope")
	env.Add(e.Header.element())
	body := NewElement(NSSoap, "Body")
	body.Add(e.Body...)
	env.Add(body)
	var rootAttrs []Attr
	if e.Header.RelatesTo != "" {
		rootAttrs = []Attr{{Space: NSXML, Local: "lang", Value: "en-US"}}
	}
	newXMLWriter(b).root(env, rootAttrs)
}

func mustUnderstand(el *Element, req bool, v string) *Element {
	if req {
		el.SetAttr(NSSoap, "mustUnderstand", v)
	}
	return el
}

func (h *Header) element() *Element {
	req := h.RelatesTo == ""
	hd := NewElement(NSSoap, "Header")
	text := func(space, local, v string) *Element { return &Element{Space: space, Local: local, Text: v} }
	if h.Action != "" {
		hd.Add(mustUnderstand(text(NSAddressing, "Action", h.Action), req, "true"))
	}
	if h.DataLocale != "" {
		hd.Add(mustUnderstand(NewElement(NSWSManMS, "DataLocale"), req, "false").SetAttr(NSXML, "lang", h.DataLocale))
	}
	if h.Locale != "" {
		hd.Add(mustUnderstand(NewElement(NSWSMan, "Locale"), req, "false").SetAttr(NSXML, "lang", h.Locale))
	}
	if h.MaxEnvelopeSize > 0 {
		hd.Add(mustUnderstand(text(NSWSMan, "MaxEnvelopeSize", strconv.Itoa(h.MaxEnvelopeSize)), req, "true"))
	}
	if h.MessageID != "" {
		hd.Add(text(NSAddressing, "MessageID", h.MessageID))
	}
	if h.ActivityID != "" {
		hd.Add(text(NSWSManMS, "ActivityId", h.ActivityID))
	}
	if h.OperationID != "" {
		mu := "false"
		if h.Retransmission {
			mu = "true"
		}
		hd.Add(NewElement(NSWSManMS, "OperationID").SetAttr(NSSoap, "mustUnderstand", mu).SetText(h.OperationID))
	}
	if h.SequenceID != "" {
		hd.Add(text(NSWSManMS, "SequenceId", h.SequenceID))
	}
	if h.OperationTimeout > 0 {
		hd.Add(text(NSWSMan, "OperationTimeout", formatOperationTimeout(h.OperationTimeout)))
	}
	if h.ReplyTo != "" {
		hd.Add(NewElement(NSAddressing, "ReplyTo").Add(
			mustUnderstand(text(NSAddressing, "Address", h.ReplyTo), req, "true")))
	}
	if h.ResourceURI != "" {
		hd.Add(mustUnderstand(text(NSWSMan, "ResourceURI", h.ResourceURI), req, "true"))
	}
	if h.SessionID != "" {
		hd.Add(mustUnderstand(text(NSWSManMS, "SessionId", h.SessionID), req, "false"))
	}
	if h.To != "" {
		hd.Add(text(NSAddressing, "To", h.To))
	}
	if h.RelatesTo != "" {
		hd.Add(text(NSAddressing, "RelatesTo", h.RelatesTo))
	}
	if len(h.Options) > 0 {
		hd.Add(mustUnderstand(OptionSetElement(h.Options), true, "true"))
	}
	if len(h.Selectors) > 0 {
		hd.Add(SelectorSetElement(h.Selectors))
	}
	hd.Add(h.Extra...)
	return hd
}

// formatOperationTimeout writes whole seconds when possible (PT20S), else
// milliseconds (PT0.500S).
func formatOperationTimeout(d time.Duration) string {
	if d%time.Second == 0 {
		return FormatDurationSeconds(d)
	}
	return FormatDuration(d)
}

// SelectorSetElement builds a wsman:SelectorSet.
func SelectorSetElement(sel []Selector) *Element {
	set := NewElement(NSWSMan, "SelectorSet")
	for _, s := range sel {
		set.Add(NewElement(NSWSMan, "Selector").SetAttr("", "Name", s.Name).SetText(s.Value))
	}
	return set
}

// OptionSetElement builds a wsman:OptionSet (without s:mustUnderstand).
func OptionSetElement(opts []Option) *Element {
	set := NewElement(NSWSMan, "OptionSet")
	for _, o := range opts {
		el := NewElement(NSWSMan, "Option")
		if o.MustComply {
			el.SetAttr("", "MustComply", "true")
		}
		el.SetAttr("", "Name", o.Name)
		if o.Type != "" {
			el.SetAttr("", "Type", o.Type)
		}
		el.Text = o.Value
		set.Add(el)
	}
	return set
}

func parseSelectorSet(el *Element) []Selector {
	var out []Selector
	for _, s := range el.ChildrenNamed(NSWSMan, "Selector") {
		n, _ := s.Attr("", "Name")
		out = append(out, Selector{Name: n, Value: s.TrimmedText()})
	}
	return out
}

func parseBool(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}

// ParseEnvelope parses a SOAP envelope (request or response) with the
// default Limits.
func ParseEnvelope(data []byte) (*Envelope, error) {
	return ParseEnvelopeLimits(data, Limits{})
}

// ParseEnvelopeLimits parses a SOAP envelope with the given limits. Header
// fields are mapped onto Header; unknown header elements go to
// Header.Extra. Malformed values of known headers are listed in
// Header.Invalid rather than failing the parse, so that a server can answer
// them with the proper fault.
func ParseEnvelopeLimits(data []byte, lim Limits) (*Envelope, error) {
	root, err := ParseElement(data, lim)
	if err != nil {
		return nil, err
	}
	return EnvelopeFromElement(root)
}

// EnvelopeFromElement maps a parsed s:Envelope element onto an Envelope.
func EnvelopeFromElement(root *Element) (*Envelope, error) {
	if !root.Is(NSSoap, "Envelope") {
		return nil, &XMLError{Msg: "root element is {" + root.Space + "}" + root.Local + ", not a SOAP 1.2 Envelope"}
	}
	env := &Envelope{}
	var body *Element
	for _, c := range root.Children {
		switch {
		case c.Is(NSSoap, "Header"):
			if err := env.Header.parse(c); err != nil {
				return nil, err
			}
		case c.Is(NSSoap, "Body"):
			if body != nil {
				return nil, &XMLError{Msg: "more than one s:Body"}
			}
			body = c
		}
	}
	if body == nil {
		return nil, &XMLError{Msg: "no s:Body"}
	}
	env.Body = body.Children
	return env, nil
}

func (h *Header) parse(hd *Element) error {
	for _, c := range hd.Children {
		v := c.TrimmedText()
		switch {
		case c.Is(NSAddressing, "Action"):
			h.Action = v
		case c.Is(NSAddressing, "To"):
			h.To = v
		case c.Is(NSAddressing, "ReplyTo"):
			h.ReplyTo = c.ChildText(NSAddressing, "Address")
		case c.Is(NSAddressing, "MessageID"):
			h.MessageID = v
		case c.Is(NSAddressing, "RelatesTo"):
			h.RelatesTo = v
		case c.Is(NSWSMan, "ResourceURI"):
			h.ResourceURI = v
		case c.Is(NSWSMan, "MaxEnvelopeSize"):
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				h.Invalid = append(h.Invalid, c.Local)
				continue
			}
			h.MaxEnvelopeSize = n
		case c.Is(NSWSMan, "OperationTimeout"):
			d, err := ParseDuration(v)
			if err != nil || d < 0 {
				h.Invalid = append(h.Invalid, c.Local)
				continue
			}
			h.OperationTimeout = d
		case c.Is(NSWSMan, "Locale"):
			h.Locale, _ = c.Attr(NSXML, "lang")
		case c.Is(NSWSManMS, "DataLocale"):
			h.DataLocale, _ = c.Attr(NSXML, "lang")
		case c.Is(NSWSManMS, "SessionId"):
			h.SessionID = v
		case c.Is(NSWSManMS, "ActivityId"):
			h.ActivityID = v
		case c.Is(NSWSManMS, "OperationID"):
			h.OperationID = v
			mu, _ := c.Attr(NSSoap, "mustUnderstand")
			h.Retransmission = parseBool(mu)
		case c.Is(NSWSManMS, "SequenceId"), c.Is(NSWSManMS, "SequenceID"):
			// pwsh 7.4 writes SequenceId; MS-WSMV's text says SequenceID.
			h.SequenceID = v
		case c.Is(NSWSMan, "SelectorSet"):
			h.Selectors = append(h.Selectors, parseSelectorSet(c)...)
		case c.Is(NSWSMan, "OptionSet"):
			for _, o := range c.ChildrenNamed(NSWSMan, "Option") {
				n, _ := o.Attr("", "Name")
				mc, _ := o.Attr("", "MustComply")
				t, _ := o.Attr("", "Type")
				h.Options = append(h.Options, Option{Name: n, Value: o.TrimmedText(), MustComply: parseBool(mc), Type: t})
			}
		default:
			h.Extra = append(h.Extra, c)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
