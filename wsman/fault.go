package wsman

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// WSManFault codes (wsmerror.h values as Windows puts them in
// f:WSManFault/@Code).
const (
	CodeAccessDenied                uint32 = 5
	CodeInvalidMessageInformation   uint32 = 2150858767 // 0x8033800F bad SOAP header
	CodeOperationTimedOut           uint32 = 2150858793 // 0x80338029 w:TimedOut
	CodeMaxEnvelopeSize             uint32 = 2150858823 // 0x80338047
	CodeMaxEnvelopeSizeExceeded     uint32 = 2150858824 // 0x80338048
	CodeServerEnvelopeLimit         uint32 = 2150858825 // 0x80338049
	CodeUnexpectedSelectors         uint32 = 2150858843 // 0x8033805B shell or command not found
	CodeRequestSizeExceeded         uint32 = 2150859025 // 0x80338111
	CodeShellDisconnected           uint32 = 2150859204 // 0x803381C4
	CodeShellDisconnectNotSupported uint32 = 2150859205 // 0x803381C5
	CodeClientSessionIDMismatch     uint32 = 2150859206 // 0x803381C6
	CodeShellConnectedToOther       uint32 = 2150859213 // 0x803381CD shell in use by another client
	CodeReconnectNotValid           uint32 = 2150859216 // 0x803381D0
	CodeCommandReconnectNotValid    uint32 = 2150859219 // 0x803381D3
	CodeCommandDisconnectNotValid   uint32 = 2150859224 // 0x803381D8
	CodeRunAsFailed                 uint32 = 2150859231 // 0x803381DF
	CodeIncorrectProtocolVersion    uint32 = 2152992672 // 0x80540FA0 (-2141974624 as int32)
)

// Sentinel errors matched by a *Fault through errors.Is.
var (
	ErrShellNotFound        = errors.New("wsman: shell or command not found")
	ErrOperationTimeout     = errors.New("wsman: operation timed out (no data yet)")
	ErrShellBusy            = errors.New("wsman: shell is connected to another client")
	ErrSessionIDMismatch    = errors.New("wsman: client session id mismatch")
	ErrAccessDenied         = errors.New("wsman: access denied")
	ErrInvalidState         = errors.New("wsman: operation not valid in the shell's current state")
	ErrShellDisconnected    = errors.New("wsman: shell is disconnected")
	ErrEnvelopeTooLarge     = errors.New("wsman: envelope size limit exceeded")
	ErrInvalidHeader        = errors.New("wsman: invalid message information header")
	ErrProtocolVersion      = errors.New("wsman: incorrect protocol version")
	ErrDisconnectNotSupport = errors.New("wsman: shell does not support disconnect")
	ErrRunAsFailed          = errors.New("wsman: the session configuration's RunAs user could not log on")
)

var codeSentinels = map[uint32]error{
	CodeAccessDenied:                ErrAccessDenied,
	CodeInvalidMessageInformation:   ErrInvalidHeader,
	CodeOperationTimedOut:           ErrOperationTimeout,
	CodeMaxEnvelopeSize:             ErrEnvelopeTooLarge,
	CodeMaxEnvelopeSizeExceeded:     ErrEnvelopeTooLarge,
	CodeServerEnvelopeLimit:         ErrEnvelopeTooLarge,
	CodeRequestSizeExceeded:         ErrEnvelopeTooLarge,
	CodeUnexpectedSelectors:         ErrShellNotFound,
	CodeShellDisconnected:           ErrShellDisconnected,
	CodeShellDisconnectNotSupported: ErrDisconnectNotSupport,
	CodeClientSessionIDMismatch:     ErrSessionIDMismatch,
	CodeShellConnectedToOther:       ErrShellBusy,
	CodeReconnectNotValid:           ErrInvalidState,
	CodeCommandReconnectNotValid:    ErrInvalidState,
	CodeCommandDisconnectNotValid:   ErrInvalidState,
	CodeIncorrectProtocolVersion:    ErrProtocolVersion,
	CodeRunAsFailed:                 ErrRunAsFailed,
}

// subcodeSentinels map fault subcodes (local part) when no WSManFault code
// is present.
var subcodeSentinels = map[string]error{
	"InvalidSelectors":                ErrShellNotFound,
	"TimedOut":                        ErrOperationTimeout,
	"AccessDenied":                    ErrAccessDenied,
	"EncodingLimit":                   ErrEnvelopeTooLarge,
	"InvalidMessageInformationHeader": ErrInvalidHeader,
}

// ProviderFault is an f:ProviderFault nested in a WSManFault message.
type ProviderFault struct {
	Provider string // the provider attribute, e.g. "Shell provider"
	Path     string // the path attribute (the provider DLL)
	// Fault is the nested f:WSManFault, if any.
	Fault *WSManFault
	// Text is the provider fault's own text when it holds no WSManFault.
	Text string
}

// WSManFault is the Microsoft f:WSManFault detail of a SOAP fault.
type WSManFault struct {
	Code    uint32 // the Code attribute (a wsmerror.h or Win32 code)
	HasCode bool   // whether Code was present
	Machine string // the Machine attribute: the server's name
	Message string // the message text (nested provider faults excluded)
	// ProviderFault is set when the message wraps a provider's fault.
	ProviderFault *ProviderFault
}

// Fault is a SOAP fault returned by a WS-Management server, as an error.
// Use errors.Is with the Err* sentinels (ErrShellNotFound,
// ErrOperationTimeout, ErrShellBusy, …) to classify it.
type Fault struct {
	// Code is the SOAP code value as sent, e.g. "s:Sender" or "s:Receiver".
	Code string
	// Subcode is the subcode value as sent, e.g. "w:InvalidSelectors".
	Subcode string
	// Reason is the s:Reason text.
	Reason string
	// Detail is the w:FaultDetail URI, if any.
	Detail string
	// WSManFault is the Microsoft detail, if any.
	WSManFault *WSManFault
	// HTTPStatus is the HTTP status the fault arrived with (0 when parsed
	// outside a transport).
	HTTPStatus int
	// Action is the request action that failed, when known.
	Action string
}

// WSManCode returns the WSManFault code (the innermost provider code when
// the top-level fault carries none), or 0.
func (f *Fault) WSManCode() uint32 {
	for w := f.WSManFault; w != nil; {
		if w.HasCode {
			return w.Code
		}
		if w.ProviderFault == nil {
			break
		}
		w = w.ProviderFault.Fault
	}
	return 0
}

// SubcodeLocal returns the subcode without its prefix ("InvalidSelectors").
func (f *Fault) SubcodeLocal() string {
	if i := strings.LastIndexByte(f.Subcode, ':'); i >= 0 {
		return f.Subcode[i+1:]
	}
	return f.Subcode
}

// Message returns the most specific human message: the innermost WSManFault
// message, else the reason.
func (f *Fault) Message() string {
	msg := ""
	for w := f.WSManFault; w != nil; {
		if strings.TrimSpace(w.Message) != "" {
			msg = w.Message
		}
		if w.ProviderFault == nil {
			break
		}
		if w.ProviderFault.Fault == nil && strings.TrimSpace(w.ProviderFault.Text) != "" {
			msg = w.ProviderFault.Text
		}
		w = w.ProviderFault.Fault
	}
	if msg == "" {
		msg = f.Reason
	}
	return strings.TrimSpace(msg)
}

// Error implements the error interface.
func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("wsman: fault")
	if f.Action != "" {
		if i := strings.LastIndexByte(f.Action, '/'); i >= 0 {
			b.WriteString(" on " + f.Action[i+1:])
		}
	}
	if f.Subcode != "" {
		b.WriteString(" " + f.Subcode)
	} else if f.Code != "" {
		b.WriteString(" " + f.Code)
	}
	if c := f.WSManCode(); c != 0 {
		fmt.Fprintf(&b, " (code %d, 0x%08X)", c, c)
	}
	if m := f.Message(); m != "" {
		b.WriteString(": " + truncate(m, 512))
	}
	return b.String()
}

// Is matches the sentinel errors by WSManFault code, else by subcode.
func (f *Fault) Is(target error) bool {
	if c := f.WSManCode(); c != 0 {
		if s, ok := codeSentinels[c]; ok {
			return s == target
		}
	}
	if s, ok := subcodeSentinels[f.SubcodeLocal()]; ok {
		return s == target
	}
	return false
}

// IsTimeout reports whether err is the w:TimedOut fault a Receive gets when
// no output was ready within OperationTimeout.
func IsTimeout(err error) bool { return errors.Is(err, ErrOperationTimeout) }

// ParseFault reads s:Fault.
func ParseFault(el *Element) (*Fault, error) {
	if !el.Is(NSSoap, "Fault") {
		return nil, unexpected("s:Fault", el)
	}
	f := &Fault{}
	code := el.Child(NSSoap, "Code")
	f.Code = code.ChildText(NSSoap, "Value")
	f.Subcode = code.Child(NSSoap, "Subcode").ChildText(NSSoap, "Value")
	if r := el.Child(NSSoap, "Reason"); r != nil {
		f.Reason = r.ChildText(NSSoap, "Text")
	}
	if d := el.Child(NSSoap, "Detail"); d != nil {
		f.Detail = d.ChildText(NSWSMan, "FaultDetail")
		if wf := d.Child(NSWSManFault, "WSManFault"); wf != nil {
			w, err := parseWSManFault(wf, 0)
			if err != nil {
				return nil, err
			}
			f.WSManFault = w
		}
	}
	return f, nil
}

const maxFaultNesting = 16

func parseWSManFault(el *Element, depth int) (*WSManFault, error) {
	if depth > maxFaultNesting {
		return nil, &XMLError{Msg: "WSManFault nested too deeply", Err: ErrLimit}
	}
	w := &WSManFault{}
	w.Machine, _ = el.Attr("", "Machine")
	if c, ok := el.Attr("", "Code"); ok {
		c = strings.TrimSpace(c)
		if n, err := strconv.ParseUint(c, 10, 32); err == nil {
			w.Code, w.HasCode = uint32(n), true
		} else if n, err := strconv.ParseInt(c, 10, 32); err == nil {
			// Some servers write HRESULTs as negative int32.
			w.Code, w.HasCode = uint32(int32(n)), true
		} else {
			return nil, &XMLError{Msg: "WSManFault Code is not a number: " + strconv.Quote(truncate(c, 32))}
		}
	}
	if m := el.Child(NSWSManFault, "Message"); m != nil {
		w.Message = m.TrimmedText()
		if pf := m.Child(NSWSManFault, "ProviderFault"); pf != nil {
			p := &ProviderFault{Text: pf.TrimmedText()}
			p.Provider, _ = pf.Attr("", "provider")
			p.Path, _ = pf.Attr("", "path")
			if inner := pf.Child(NSWSManFault, "WSManFault"); inner != nil {
				iw, err := parseWSManFault(inner, depth+1)
				if err != nil {
					return nil, err
				}
				p.Fault = iw
			}
			w.ProviderFault = p
		}
	}
	return w, nil
}

// Element builds s:Fault in Windows's shape.
func (f *Fault) Element() *Element {
	el := NewElement(NSSoap, "Fault")
	code := NewElement(NSSoap, "Code").AddText(NSSoap, "Value", f.Code)
	if f.Subcode != "" {
		code.Add(NewElement(NSSoap, "Subcode").AddText(NSSoap, "Value", f.Subcode))
	}
	el.Add(code)
	el.Add(NewElement(NSSoap, "Reason").Add(
		NewElement(NSSoap, "Text").SetAttr(NSXML, "lang", "en-US").SetText(f.Reason)))
	if f.Detail != "" || f.WSManFault != nil {
		d := NewElement(NSSoap, "Detail")
		if f.Detail != "" {
			d.AddText(NSWSMan, "FaultDetail", f.Detail)
		}
		if f.WSManFault != nil {
			d.Add(f.WSManFault.element())
		}
		el.Add(d)
	}
	return el
}

func (w *WSManFault) element() *Element {
	el := NewElement(NSWSManFault, "WSManFault")
	if w.HasCode {
		el.SetAttr("", "Code", strconv.FormatUint(uint64(w.Code), 10))
	}
	if w.Machine != "" {
		el.SetAttr("", "Machine", w.Machine)
	}
	msg := NewElement(NSWSManFault, "Message")
	msg.Text = w.Message
	if p := w.ProviderFault; p != nil {
		pf := NewElement(NSWSManFault, "ProviderFault")
		if p.Provider != "" {
			pf.SetAttr("", "provider", p.Provider)
		}
		if p.Path != "" {
			pf.SetAttr("", "path", p.Path)
		}
		if p.Fault != nil {
			pf.Add(p.Fault.element())
		} else {
			pf.Text = p.Text
		}
		msg.Add(pf)
	}
	return el.Add(msg)
}

// NewFault returns a fault with the given SOAP code ("s:Sender" or
// "s:Receiver"), subcode (e.g. "w:InvalidSelectors"), reason, WSManFault
// code and message; machine names the server.
func NewFault(code, subcode, reason string, wsmanCode uint32, machine, message string) *Fault {
	return &Fault{
		Code: code, Subcode: subcode, Reason: reason,
		WSManFault: &WSManFault{Code: wsmanCode, HasCode: true, Machine: machine, Message: message},
	}
}

// Windows's fault texts for the common cases.
const (
	reasonInvalidSelectors = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "
	reasonTimedOut         = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
)

// ShellNotFoundFault returns the w:InvalidSelectors fault (2150858843)
// Windows sends for an unknown ShellId or CommandId, with the
// UnexpectedSelectors detail and the Shell provider's nested fault.
func ShellNotFoundFault(machine string) *Fault {
	return &Fault{
		Code: "s:Sender", Subcode: "w:InvalidSelectors", Reason: reasonInvalidSelectors,
		Detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		WSManFault: &WSManFault{Code: CodeUnexpectedSelectors, HasCode: true, Machine: machine,
			ProviderFault: &ProviderFault{Provider: "Shell provider", Path: `%systemroot%\system32\WsmSvc.dll`,
				Fault: &WSManFault{Code: CodeUnexpectedSelectors, HasCode: true, Machine: machine, Message: reasonInvalidSelectors}}},
	}
}

// TimedOutFault returns the w:TimedOut fault (2150858793) Windows sends when
// a Receive had no data within OperationTimeout.
func TimedOutFault(machine string) *Fault {
	return NewFault("s:Receiver", "w:TimedOut", reasonTimedOut, CodeOperationTimedOut, machine, reasonTimedOut)
}

// InvalidHeaderFault returns the a:InvalidMessageInformationHeader fault
// (2150858767) Windows sends for a malformed SOAP header value.
func InvalidHeaderFault(machine, message string) *Fault {
	const reason = "The WS-Management service cannot process the request because the header of the SOAP message is invalid. "
	if message == "" {
		message = reason
	}
	return NewFault("s:Sender", "a:InvalidMessageInformationHeader", reason, CodeInvalidMessageInformation, machine, message)
}
