package wsman

import "fmt"

// NewResponse builds the response envelope to req as Windows writes it:
// Action = the request action + "Response", a new MessageID, To = the
// anonymous address, RelatesTo = the request's MessageID. body may be empty
// (Delete, Disconnect and Reconnect responses have an empty s:Body).
func NewResponse(req *Envelope, body ...*Element) *Envelope {
	var b []*Element
	for _, e := range body {
		if e != nil {
			b = append(b, e)
		}
	}
	return &Envelope{
		Header: Header{
			Action:    ResponseAction(req.Header.Action),
			MessageID: NewMessageID(),
			To:        AnonymousAddress,
			RelatesTo: relatesTo(req),
		},
		Body: b,
	}
}

func relatesTo(req *Envelope) string {
	if req.Header.MessageID != "" {
		return req.Header.MessageID
	}
	// A response must be recognisable as one (see Envelope.Marshal).
	return "uuid:00000000-0000-0000-0000-000000000000"
}

// NewFaultResponse builds the fault envelope answering req (Action
// ActionFault, RelatesTo = the request's MessageID). Send it with HTTP 500.
func NewFaultResponse(req *Envelope, f *Fault) *Envelope {
	return &Envelope{
		Header: Header{
			Action:    ActionFault,
			MessageID: NewMessageID(),
			To:        AnonymousAddress,
			RelatesTo: relatesTo(req),
		},
		Body: []*Element{f.Element()},
	}
}

// DecodeRequestBody decodes the body of a request according to its Action:
//
//	Create     *Shell
//	Command    *CommandLine
//	Send       []Stream
//	Receive    *Receive
//	Signal     *Signal
//	Disconnect *Disconnect
//	Reconnect  *Reconnect
//	Connect    *Connect
//	Enumerate  *Enumerate
//	Pull       *Pull
//	Delete, Get: nil (empty body)
//
// Other actions give an *XMLError.
func (e *Envelope) DecodeRequestBody() (any, error) {
	b := e.BodyElement()
	switch e.Header.Action {
	case ActionCreate:
		return ParseShell(b)
	case ActionCommand:
		return ParseCommandLine(b)
	case ActionSend:
		return ParseSend(b)
	case ActionReceive:
		return ParseReceive(b)
	case ActionSignal:
		return ParseSignal(b)
	case ActionDisconnect:
		return ParseDisconnect(b)
	case ActionReconnect:
		return ParseReconnect(b)
	case ActionConnect:
		return ParseConnect(b)
	case ActionEnumerate:
		return ParseEnumerate(b)
	case ActionPull:
		return ParsePull(b)
	case ActionDelete, ActionGet:
		return nil, nil
	}
	return nil, &XMLError{Msg: fmt.Sprintf("unsupported action %q", truncate(e.Header.Action, 128))}
}

// FaultFromEnvelope returns the *Fault of a fault envelope, or nil when the
// body is not a fault (or the fault cannot be parsed).
func FaultFromEnvelope(env *Envelope) *Fault {
	if !env.IsFault() {
		return nil
	}
	f, err := ParseFault(env.BodyElement())
	if err != nil {
		return nil
	}
	return f
}
