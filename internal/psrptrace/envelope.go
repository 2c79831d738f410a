package psrptrace

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XML namespaces the scanner looks for.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsPowerShell = "http://schemas.microsoft.com/powershell"
)

// PowerShellResourcePrefix starts the resource URI of every PowerShell
// (PSRP) endpoint; other resource URIs (the WinRS cmd shell, WMI, config)
// carry no PSRP.
const PowerShellResourcePrefix = "http://schemas.microsoft.com/powershell/"

// Names of the elements that carry PSRP fragments, as reported in
// Payload.Element and Message.Element.
const (
	ElementCreationXML        = "creationXml"
	ElementArguments          = "Arguments"
	ElementStream             = "Stream"
	ElementConnectXML         = "connectXml"
	ElementConnectResponseXML = "connectResponseXml"
)

// DefaultMaxEnvelopeSize bounds the size of one envelope the scanner accepts
// (64 MiB, far above any WinRM MaxEnvelopeSize).
const DefaultMaxEnvelopeSize = 64 << 20

// maxScanDepth bounds element nesting in an envelope.
const maxScanDepth = 64

// ErrEnvelope is wrapped by every error of ScanEnvelope.
var ErrEnvelope = errors.New("psrptrace: bad envelope")

// Payload is one base64 element of an envelope that may carry PSRP
// fragments.
type Payload struct {
	// Element is one of the Element* constants.
	Element string
	// Stream is the Name attribute of an rsp:Stream ("stdin", "pr",
	// "stdout", ...); empty for the other elements.
	Stream string
	// CommandID is the CommandId attribute of rsp:Stream or of the
	// rsp:CommandLine around rsp:Arguments, if any.
	CommandID string
	// Text is the element's text, still base64 encoded.
	Text string
}

// Bytes decodes the payload's base64 text (surrounding and embedded
// whitespace is ignored).
func (p Payload) Bytes() ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, p.Text)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s element is not valid base64: %v", ErrEnvelope, p.Element, err)
	}
	return b, nil
}

// Envelope is what ScanEnvelope found in one SOAP envelope.
type Envelope struct {
	// Action is the wsa:Action URI; empty when absent.
	Action string
	// ResourceURI is the wsman:ResourceURI; empty when absent (responses).
	ResourceURI string
	// ShellID is the ShellId selector, the ShellId attribute of rsp:Shell
	// or the rsp:ShellId of a CreateResponse, whichever comes first.
	ShellID string
	// Fault reports an s:Fault in the body.
	Fault bool
	// Payloads lists the PSRP-carrying elements in document order.
	Payloads []Payload
}

// ShortAction returns the last segment of an action URI ("Create",
// "ReceiveResponse", "fault"), or "" for "".
func ShortAction(action string) string {
	if i := strings.LastIndexByte(action, '/'); i >= 0 {
		return action[i+1:]
	}
	return action
}

// IsPowerShell reports whether a resource URI names a PowerShell endpoint.
// An empty URI (unknown) counts as PowerShell.
func IsPowerShell(resourceURI string) bool {
	return resourceURI == "" || strings.HasPrefix(strings.ToLower(resourceURI), PowerShellResourcePrefix)
}

// ScanEnvelope scans one SOAP envelope. It checks well-formedness as far as
// encoding/xml does, bounds size and depth, and returns the elements of
// interest; everything else is ignored.
func ScanEnvelope(b []byte) (*Envelope, error) {
	if len(b) > DefaultMaxEnvelopeSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrEnvelope, len(b), DefaultMaxEnvelopeSize)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	env := &Envelope{}
	var (
		stack      []xml.Name
		capture    *strings.Builder // text of the element being captured
		captureAt  int              // depth of the captured element
		onCapture  func(string)
		cmdLineID  string
		sawRoot    bool
		selectorSh bool
	)
	start := func(depth int, f func(string)) {
		capture = &strings.Builder{}
		captureAt = depth
		onCapture = f
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrEnvelope, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if sawRoot {
					return nil, fmt.Errorf("%w: more than one root element", ErrEnvelope)
				}
				sawRoot = true
				if t.Name.Space != nsSOAP || t.Name.Local != "Envelope" {
					return nil, fmt.Errorf("%w: root element is {%s}%s, not a SOAP 1.2 Envelope", ErrEnvelope, t.Name.Space, t.Name.Local)
				}
			}
			stack = append(stack, t.Name)
			if len(stack) > maxScanDepth {
				return nil, fmt.Errorf("%w: elements nested deeper than %d", ErrEnvelope, maxScanDepth)
			}
			if capture != nil {
				continue // markup inside a captured element: only its text counts
			}
			depth := len(stack)
			switch t.Name.Space {
			case nsAddressing:
				if t.Name.Local == "Action" && env.Action == "" {
					start(depth, func(s string) { env.Action = strings.TrimSpace(s) })
				}
			case nsWSMan:
				switch t.Name.Local {
				case "ResourceURI":
					if env.ResourceURI == "" {
						start(depth, func(s string) { env.ResourceURI = strings.TrimSpace(s) })
					}
				case "Selector":
					selectorSh = attr(t, "Name") == "ShellId"
					if selectorSh && env.ShellID == "" {
						start(depth, func(s string) { env.ShellID = strings.TrimSpace(s) })
					}
				}
			case nsSOAP:
				if t.Name.Local == "Fault" {
					env.Fault = true
				}
			case nsShell:
				switch t.Name.Local {
				case "Shell":
					if id := attr(t, "ShellId"); id != "" && env.ShellID == "" {
						env.ShellID = id
					}
				case "ShellId":
					if env.ShellID == "" {
						start(depth, func(s string) { env.ShellID = strings.TrimSpace(s) })
					}
				case "CommandLine":
					cmdLineID = attr(t, "CommandId")
				case "Arguments":
					id := cmdLineID
					start(depth, func(s string) {
						env.Payloads = append(env.Payloads, Payload{Element: ElementArguments, CommandID: id, Text: s})
					})
				case "Stream":
					p := Payload{Element: ElementStream, Stream: attr(t, "Name"), CommandID: attr(t, "CommandId")}
					start(depth, func(s string) {
						p.Text = s
						env.Payloads = append(env.Payloads, p)
					})
				}
			case nsPowerShell:
				switch t.Name.Local {
				case ElementCreationXML, ElementConnectXML, ElementConnectResponseXML:
					el := t.Name.Local
					start(depth, func(s string) {
						env.Payloads = append(env.Payloads, Payload{Element: el, Text: s})
					})
				}
			}
		case xml.EndElement:
			if capture != nil && len(stack) == captureAt {
				onCapture(capture.String())
				capture, onCapture = nil, nil
			}
			if len(stack) > 0 {
				if n := stack[len(stack)-1]; n.Space == nsShell && n.Local == "CommandLine" {
					cmdLineID = ""
				}
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if capture != nil {
				capture.Write(t)
			}
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%w: no root element", ErrEnvelope)
	}
	return env, nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
