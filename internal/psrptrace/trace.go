package psrptrace

import (
	"errors"
	"fmt"
	"strings"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// decodeData decodes the CLIXML and the protocol object of m.Message.
func decodeData(m *Message) error {
	if len(m.Message.Data) > 0 {
		v, err := clixml.Unmarshal(m.Message.Data)
		if err != nil {
			return fmt.Errorf("CLIXML: %w", err)
		}
		m.Value = v
	}
	obj, err := psrp.DecodeValue(m.Message.Type, m.Value)
	if err != nil {
		return fmt.Errorf("protocol object: %w", err)
	}
	m.Object = obj
	return nil
}

// Direction says who sent a message: the client (a request) or the server
// (a response).
type Direction uint8

// Directions.
const (
	Request  Direction = 1
	Response Direction = 2
)

// String returns "request" or "response".
func (d Direction) String() string {
	switch d {
	case Request:
		return "request"
	case Response:
		return "response"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// MarshalText implements encoding.TextMarshaler with String's result.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Message is one reassembled PSRP message found in the traffic, with where it
// came from.
type Message struct {
	// File names the input (a path, or "-" for standard input).
	File string
	// Exchange is the index of the HTTP round trip in a recording (0 for a
	// single envelope or payload).
	Exchange int
	// Direction is Request for client messages, Response for server ones.
	Direction Direction
	// Action is the short WS-Management action of the exchange's request
	// ("Create", "Command", "Send", "Receive", "Connect", ...), or of the
	// envelope itself when there is no request.
	Action string
	// ShellID is the shell (runspace pool) the payload belongs to, when
	// known.
	ShellID string
	// Element, Stream and CommandID describe the base64 element of the
	// message's last fragment (see Payload).
	Element string
	// Stream is the Name of that rsp:Stream ("stdin", "stdout", "pr"),
	// "" for other elements.
	Stream string
	// CommandID is that element's CommandId attribute, "" when absent.
	CommandID string
	// ObjectID is the fragment ObjectId and Fragments the number of
	// fragments the message was reassembled from.
	ObjectID uint64
	// Fragments is the number of fragments of the message (see ObjectID).
	Fragments int
	// Message is the parsed message; its Data aliases Raw.
	Message *psrp.Message
	// Raw is the reassembled message bytes (header and data).
	Raw []byte
	// Value is the message's decoded CLIXML, nil for a message without
	// data (END_OF_PIPELINE_INPUT).
	Value clixml.Value
	// Object is the protocol object decoded from Value
	// (psrp.DecodeValue).
	Object psrp.MessageData
}

// Error reports where a trace failed.
type Error struct {
	// File names the input, as Message.File ("" when unknown).
	File string
	// Exchange is the index of the HTTP round trip, as Message.Exchange.
	Exchange int
	// Direction says whether the request or the response failed.
	Direction Direction
	Element   string // empty when the failure is not tied to one element
	// Err is the cause.
	Err error
}

// Error describes the location and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("psrptrace: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "exchange %d", e.Exchange)
	if e.Direction != 0 {
		b.WriteString(" ")
		b.WriteString(e.Direction.String())
	}
	if e.Element != "" {
		b.WriteString(" ")
		b.WriteString(e.Element)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "psrptrace: "))
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrIncomplete is wrapped by Close's error when fragments of a message never
// completed.
var ErrIncomplete = errors.New("partial PSRP message left at the end of the traffic")

type streamKey struct {
	shell string
	dir   Direction
}

// Tracer reassembles the PSRP messages of one traffic source (one recording,
// one file). Feed it exchanges, envelopes or payloads in order, then call
// Close. It is not safe for concurrent use.
type Tracer struct {
	file    string
	streams map[streamKey]*reassembler
	// winrs remembers shells created on a non-PowerShell resource URI, so
	// that their responses (which name no resource URI) are skipped too.
	winrs map[string]bool
}

// NewTracer returns a Tracer; file is reported in every Message and error.
func NewTracer(file string) *Tracer {
	return &Tracer{file: file, streams: map[streamKey]*reassembler{}, winrs: map[string]bool{}}
}

func (t *Tracer) stream(shell string, dir Direction) *reassembler {
	k := streamKey{strings.ToUpper(shell), dir}
	r := t.streams[k]
	if r == nil {
		r = newReassembler()
		t.streams[k] = r
	}
	return r
}

func (t *Tracer) fail(ex int, dir Direction, el string, err error) error {
	return &Error{File: t.file, Exchange: ex, Direction: dir, Element: el, Err: err}
}

// Exchange traces one HTTP round trip: the request envelope and the
// response envelope (either may be empty, as when a recording has no
// response). The request decides the action, the shell and whether the
// exchange is PowerShell at all.
func (t *Tracer) Exchange(index int, request, response []byte) ([]Message, error) {
	var req, resp *Envelope
	var err error
	if len(request) > 0 {
		if req, err = ScanEnvelope(request); err != nil {
			return nil, t.fail(index, Request, "", err)
		}
	}
	if len(response) > 0 {
		if resp, err = ScanEnvelope(response); err != nil {
			return nil, t.fail(index, Response, "", err)
		}
	}
	action, shell := "", ""
	isPS := true
	if req != nil {
		action, shell = ShortAction(req.Action), req.ShellID
		isPS = IsPowerShell(req.ResourceURI)
	}
	if resp != nil {
		if action == "" {
			action = ShortAction(resp.Action)
		}
		if shell == "" {
			shell = resp.ShellID
		}
	}
	if shell != "" && !isPS && action == "Create" {
		t.winrs[strings.ToUpper(shell)] = true
	}
	if !isPS || (shell != "" && t.winrs[strings.ToUpper(shell)]) {
		return nil, nil
	}
	var out []Message
	if req != nil {
		ms, err := t.payloads(index, Request, action, shell, req.Payloads)
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	if resp != nil {
		ms, err := t.payloads(index, Response, action, shell, resp.Payloads)
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Envelope traces one SOAP envelope on its own. The direction is taken from
// the action (a "...Response" action or a fault is a response) when dir is
// zero.
func (t *Tracer) Envelope(index int, dir Direction, envelope []byte) ([]Message, error) {
	env, err := ScanEnvelope(envelope)
	if err != nil {
		return nil, t.fail(index, dir, "", err)
	}
	action := ShortAction(env.Action)
	if dir == 0 {
		dir = Request
		if env.Fault || strings.HasSuffix(action, "Response") || strings.EqualFold(action, "fault") {
			dir = Response
		}
	}
	if !IsPowerShell(env.ResourceURI) {
		return nil, nil
	}
	return t.payloads(index, dir, action, env.ShellID, env.Payloads)
}

// Payload traces one raw payload of fragments (already base64-decoded) sent
// in direction dir, as if it were a stream element of shell "". When dir is
// zero, each message's direction is taken from its Destination (Server:
// Request, Client: Response).
func (t *Tracer) Payload(index int, dir Direction, payload []byte) ([]Message, error) {
	r := t.stream("", dir)
	ms, err := t.reassemble(index, dir, "", "", Payload{}, r, payload)
	if dir == 0 {
		for i := range ms {
			ms[i].Direction = DirectionOf(ms[i].Message.Destination)
		}
	}
	return ms, err
}

// DirectionOf returns Request for messages addressed to the server and
// Response for messages addressed to the client (0 for other values).
func DirectionOf(d psrp.Destination) Direction {
	switch d {
	case psrp.DestinationServer:
		return Request
	case psrp.DestinationClient:
		return Response
	}
	return 0
}

func (t *Tracer) payloads(index int, dir Direction, action, shell string, ps []Payload) ([]Message, error) {
	var out []Message
	for _, p := range ps {
		b, err := p.Bytes()
		if err != nil {
			return out, t.fail(index, dir, p.Element, err)
		}
		if len(b) == 0 {
			continue // e.g. an empty End="true" stream
		}
		var r *reassembler
		switch p.Element {
		case ElementConnectXML, ElementConnectResponseXML:
			// A connect (from a new client) carries complete fragments of
			// its own numbering: the new client restarts its ObjectIds at 1,
			// and Windows fragments connectResponseXml separately from its
			// main stream (test_psrp_disconnected_commands, exchange 13).
			r = newReassembler()
			if p.Element == ElementConnectXML {
				delete(t.streams, streamKey{strings.ToUpper(shell), Request})
			}
		default:
			r = t.stream(shell, dir)
		}
		ms, err := t.reassemble(index, dir, action, shell, p, r, b)
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
		if (p.Element == ElementConnectXML || p.Element == ElementConnectResponseXML) && r.pending() > 0 {
			return out, t.fail(index, dir, p.Element, fmt.Errorf("%w: %d incomplete message(s) in %s", ErrIncomplete, r.pending(), p.Element))
		}
	}
	return out, nil
}

func (t *Tracer) reassemble(index int, dir Direction, action, shell string, p Payload, r *reassembler, b []byte) ([]Message, error) {
	done, err := r.feed(b)
	out := make([]Message, 0, len(done))
	for _, d := range done {
		m, derr := psrp.DecodeMessage(d.data)
		if derr != nil {
			return out, t.fail(index, dir, p.Element, fmt.Errorf("ObjectId %d: %w", d.objectID, derr))
		}
		msg := Message{
			File: t.file, Exchange: index, Direction: dir, Action: action, ShellID: shell,
			Element: p.Element, Stream: p.Stream, CommandID: p.CommandID,
			ObjectID: d.objectID, Fragments: d.fragments, Message: m, Raw: d.data,
		}
		if derr := decodeData(&msg); derr != nil {
			return out, t.fail(index, dir, p.Element, fmt.Errorf("ObjectId %d %s: %w", d.objectID, m.Type, derr))
		}
		out = append(out, msg)
	}
	if err != nil {
		return out, t.fail(index, dir, p.Element, err)
	}
	return out, nil
}

// Close reports an error wrapping ErrIncomplete if any message was left
// partly reassembled.
func (t *Tracer) Close() error {
	var n int
	var where []string
	for k, r := range t.streams {
		if p := r.pending(); p > 0 {
			n += p
			where = append(where, fmt.Sprintf("shell %q %s", k.shell, k.dir))
		}
	}
	if n > 0 {
		return &Error{File: t.file, Exchange: -1, Err: fmt.Errorf("%w: %d message(s) in %s", ErrIncomplete, n, strings.Join(where, ", "))}
	}
	return nil
}
