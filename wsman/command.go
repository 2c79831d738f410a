package wsman

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// CommandLine is the body of a Command request.
type CommandLine struct {
	// CommandID is client-chosen for PowerShell pipelines (the upper-case
	// PID); empty lets a WinRS server choose.
	CommandID string
	// Command is the command text: cmd.exe for WinRS; for PowerShell the
	// pipeline's text (shown in Enumerate) or empty.
	Command string
	// Arguments are rsp:Arguments texts. A PowerShell pipeline sends one:
	// the base64 of its first CREATE_PIPELINE fragments (see
	// PowerShellArguments).
	Arguments []string
}

// PowerShellArguments returns the Arguments for a PowerShell Command: the
// base64 of the PSRP fragment bytes.
func PowerShellArguments(fragments []byte) []string {
	return []string{base64.StdEncoding.EncodeToString(fragments)}
}

// Element builds rsp:CommandLine.
func (c *CommandLine) Element() *Element {
	el := NewElement(NSShell, "CommandLine")
	if c.CommandID != "" {
		el.SetAttr("", "CommandId", c.CommandID)
	}
	el.AddText(NSShell, "Command", c.Command)
	for _, a := range c.Arguments {
		el.AddText(NSShell, "Arguments", a)
	}
	return el
}

// ParseCommandLine reads rsp:CommandLine.
func ParseCommandLine(el *Element) (*CommandLine, error) {
	if !el.Is(NSShell, "CommandLine") {
		return nil, unexpected("rsp:CommandLine", el)
	}
	c := &CommandLine{}
	c.CommandID, _ = el.Attr("", "CommandId")
	c.Command = el.Child(NSShell, "Command").TrimmedText()
	for _, a := range el.ChildrenNamed(NSShell, "Arguments") {
		c.Arguments = append(c.Arguments, a.Text)
	}
	return c, nil
}

// CommandResponseElement builds rsp:CommandResponse.
func CommandResponseElement(commandID string) *Element {
	return NewElement(NSShell, "CommandResponse").AddText(NSShell, "CommandId", commandID)
}

// ParseCommandResponse returns the CommandId of an rsp:CommandResponse.
func ParseCommandResponse(el *Element) (string, error) {
	if !el.Is(NSShell, "CommandResponse") {
		return "", unexpected("rsp:CommandResponse", el)
	}
	id := el.ChildText(NSShell, "CommandId")
	if id == "" {
		return "", &XMLError{Msg: "CommandResponse has no CommandId"}
	}
	return id, nil
}

// Stream is one rsp:Stream of a Send request or a ReceiveResponse.
type Stream struct {
	Name      string // stdin, pr, stdout, stderr
	CommandID string // empty for shell-level (runspace pool) data
	Data      []byte // decoded bytes
	End       bool   // End="true": no more data on this stream
}

func (s *Stream) element() *Element {
	el := NewElement(NSShell, "Stream").SetAttr("", "Name", s.Name)
	if s.CommandID != "" {
		el.SetAttr("", "CommandId", s.CommandID)
	}
	if s.End {
		el.SetAttr("", "End", "true")
	}
	el.Text = base64.StdEncoding.EncodeToString(s.Data)
	return el
}

func parseStream(el *Element) (Stream, error) {
	s := Stream{}
	s.Name, _ = el.Attr("", "Name")
	s.CommandID, _ = el.Attr("", "CommandId")
	if e, ok := el.Attr("", "End"); ok {
		s.End = parseBool(e)
	}
	b, err := decodeBase64(el.Text)
	if err != nil {
		return s, &XMLError{Msg: "rsp:Stream " + strconv.Quote(s.Name), Err: err}
	}
	s.Data = b
	return s, nil
}

// SendElement builds rsp:Send with the streams.
func SendElement(streams ...Stream) *Element {
	el := NewElement(NSShell, "Send")
	for i := range streams {
		el.Add(streams[i].element())
	}
	return el
}

// ParseSend reads rsp:Send.
func ParseSend(el *Element) ([]Stream, error) {
	if !el.Is(NSShell, "Send") {
		return nil, unexpected("rsp:Send", el)
	}
	var out []Stream
	for _, c := range el.ChildrenNamed(NSShell, "Stream") {
		s, err := parseStream(c)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Receive is the body of a Receive request.
type Receive struct {
	// DesiredStream is the space-separated stream list; "" means stdout
	// (PowerShell) — use "stdout stderr" for cmd shells.
	DesiredStream string
	// CommandID selects a command's output; empty means the shell's.
	CommandID string
	// SequenceID is the optional rsp:Receive/@SequenceId for robust
	// connections (empty: not sent).
	SequenceID string
	// OperationTimeout, when positive, is this call's wsman:OperationTimeout
	// (how long the server holds the long poll) instead of the client's
	// default. It is a header of the request, not part of the element.
	OperationTimeout time.Duration
}

// Element builds rsp:Receive.
func (r *Receive) Element() *Element {
	el := NewElement(NSShell, "Receive")
	if r.SequenceID != "" {
		el.SetAttr("", "SequenceId", r.SequenceID)
	}
	ds := NewElement(NSShell, "DesiredStream")
	if r.CommandID != "" {
		ds.SetAttr("", "CommandId", r.CommandID)
	}
	ds.Text = r.DesiredStream
	if ds.Text == "" {
		ds.Text = StreamStdout
	}
	return el.Add(ds)
}

// ParseReceive reads rsp:Receive.
func ParseReceive(el *Element) (*Receive, error) {
	if !el.Is(NSShell, "Receive") {
		return nil, unexpected("rsp:Receive", el)
	}
	r := &Receive{}
	r.SequenceID, _ = el.Attr("", "SequenceId")
	ds := el.Child(NSShell, "DesiredStream")
	if ds == nil {
		return nil, &XMLError{Msg: "rsp:Receive has no DesiredStream"}
	}
	r.DesiredStream = ds.TrimmedText()
	r.CommandID, _ = ds.Attr("", "CommandId")
	return r, nil
}

// CommandState is the rsp:CommandState of a ReceiveResponse.
type CommandState struct {
	CommandID string // the command the state is about
	State     string // CommandStateDone, …Running, …Pending
	// ExitCode is set when the response carried rsp:ExitCode.
	ExitCode    int64
	HasExitCode bool // whether rsp:ExitCode was present
}

// Done reports whether the command has finished.
func (c *CommandState) Done() bool {
	return c != nil && c.State == CommandStateDone
}

// ReceiveResponse is the parsed body of a ReceiveResponse.
type ReceiveResponse struct {
	// Streams in document order; concatenate the Data of one stream and
	// command to get its bytes.
	Streams []Stream
	// CommandState is nil when the response had none (shell-level data).
	CommandState *CommandState
	// SequenceID is the optional rsp:ReceiveResponse/@SequenceID.
	SequenceID string
	// TimedOut is set by Client.Receive (never by the parser) when the
	// server answered with the w:TimedOut fault (2150858793): no data was
	// ready within OperationTimeout, and the caller should simply Receive
	// again.
	TimedOut bool
}

// Element builds rsp:ReceiveResponse.
func (r *ReceiveResponse) Element() *Element {
	el := NewElement(NSShell, "ReceiveResponse")
	if r.SequenceID != "" {
		el.SetAttr("", "SequenceID", r.SequenceID)
	}
	for i := range r.Streams {
		el.Add(r.Streams[i].element())
	}
	if cs := r.CommandState; cs != nil {
		c := NewElement(NSShell, "CommandState")
		if cs.CommandID != "" {
			c.SetAttr("", "CommandId", cs.CommandID)
		}
		c.SetAttr("", "State", cs.State)
		if cs.HasExitCode {
			c.AddText(NSShell, "ExitCode", strconv.FormatInt(cs.ExitCode, 10))
		}
		el.Add(c)
	}
	return el
}

// ParseReceiveResponse reads rsp:ReceiveResponse.
func ParseReceiveResponse(el *Element) (*ReceiveResponse, error) {
	if !el.Is(NSShell, "ReceiveResponse") {
		return nil, unexpected("rsp:ReceiveResponse", el)
	}
	r := &ReceiveResponse{}
	r.SequenceID, _ = el.Attr("", "SequenceID")
	if r.SequenceID == "" {
		r.SequenceID, _ = el.Attr("", "SequenceId")
	}
	for _, c := range el.Children {
		switch {
		case c.Is(NSShell, "Stream"):
			s, err := parseStream(c)
			if err != nil {
				return nil, err
			}
			r.Streams = append(r.Streams, s)
		case c.Is(NSShell, "CommandState"):
			cs := &CommandState{}
			cs.CommandID, _ = c.Attr("", "CommandId")
			cs.State, _ = c.Attr("", "State")
			if ec := c.Child(NSShell, "ExitCode"); ec != nil {
				n, err := strconv.ParseInt(ec.TrimmedText(), 10, 64)
				if err != nil {
					return nil, &XMLError{Msg: "rsp:ExitCode is not a number: " + strconv.Quote(truncate(ec.TrimmedText(), 32))}
				}
				cs.ExitCode, cs.HasExitCode = n, true
			}
			r.CommandState = cs
		}
	}
	return r, nil
}

// StreamData concatenates the data of every stream with the given name and
// command id.
func (r *ReceiveResponse) StreamData(name, commandID string) []byte {
	var out []byte
	for _, s := range r.Streams {
		if s.Name == name && strings.EqualFold(s.CommandID, commandID) {
			out = append(out, s.Data...)
		}
	}
	return out
}

// Signal is the body of a Signal request.
type Signal struct {
	CommandID string // empty signals the shell
	Code      string // SignalTerminate, SignalPowerShellStop, …
}

// Element builds rsp:Signal.
func (s *Signal) Element() *Element {
	el := NewElement(NSShell, "Signal")
	if s.CommandID != "" {
		el.SetAttr("", "CommandId", s.CommandID)
	}
	return el.AddText(NSShell, "Code", s.Code)
}

// ParseSignal reads rsp:Signal.
func ParseSignal(el *Element) (*Signal, error) {
	if !el.Is(NSShell, "Signal") {
		return nil, unexpected("rsp:Signal", el)
	}
	s := &Signal{Code: el.ChildText(NSShell, "Code")}
	s.CommandID, _ = el.Attr("", "CommandId")
	return s, nil
}

// Disconnect is the body of a Disconnect request. Zero fields are omitted
// (the server keeps its values).
type Disconnect struct {
	IdleTimeOut time.Duration // how long the disconnected shell is kept
	BufferMode  string        // BufferModeBlock or BufferModeDrop
}

// Element builds rsp:Disconnect.
func (d *Disconnect) Element() *Element {
	el := NewElement(NSShell, "Disconnect")
	if d.IdleTimeOut > 0 {
		el.AddText(NSShell, "IdleTimeOut", FormatDuration(d.IdleTimeOut))
	}
	if d.BufferMode != "" {
		el.AddText(NSShell, "BufferMode", d.BufferMode)
	}
	return el
}

// ParseDisconnect reads rsp:Disconnect (nil element: empty body, allowed).
func ParseDisconnect(el *Element) (*Disconnect, error) {
	d := &Disconnect{}
	if el == nil {
		return d, nil
	}
	if !el.Is(NSShell, "Disconnect") {
		return nil, unexpected("rsp:Disconnect", el)
	}
	if c := el.Child(NSShell, "IdleTimeOut"); c != nil {
		v, err := ParseDuration(c.TrimmedText())
		if err != nil {
			return nil, &XMLError{Msg: "rsp:IdleTimeOut", Err: err}
		}
		d.IdleTimeOut = v
	}
	d.BufferMode = el.ChildText(NSShell, "BufferMode")
	return d, nil
}

// Reconnect is the body of a Reconnect request: empty for a shell (what
// Windows accepts), or with a CommandId for a command.
type Reconnect struct {
	CommandID  string // empty: reconnect the shell
	BufferMode string // optional BufferModeBlock or BufferModeDrop
}

// Element builds rsp:Reconnect, or returns nil for an empty body.
func (r *Reconnect) Element() *Element {
	if r.CommandID == "" && r.BufferMode == "" {
		return nil
	}
	el := NewElement(NSShell, "Reconnect")
	if r.CommandID != "" {
		el.SetAttr("", "CommandId", r.CommandID)
	}
	if r.BufferMode != "" {
		el.AddText(NSShell, "BufferMode", r.BufferMode)
	}
	return el
}

// ParseReconnect reads rsp:Reconnect (nil element: empty body).
func ParseReconnect(el *Element) (*Reconnect, error) {
	r := &Reconnect{}
	if el == nil {
		return r, nil
	}
	if !el.Is(NSShell, "Reconnect") {
		return nil, unexpected("rsp:Reconnect", el)
	}
	r.CommandID, _ = el.Attr("", "CommandId")
	r.BufferMode = el.ChildText(NSShell, "BufferMode")
	return r, nil
}

// Connect is the body of a Connect request: a shell with connectXml, or a
// command by CommandId.
type Connect struct {
	CommandID  string // empty: connect the shell
	ConnectXML []byte // nil: no connectXml element
}

// Element builds rsp:Connect.
func (c *Connect) Element() *Element {
	el := NewElement(NSShell, "Connect")
	if c.CommandID != "" {
		el.SetAttr("", "CommandId", c.CommandID)
	}
	if c.ConnectXML != nil {
		el.AddText(NSPowerShell, "connectXml", base64.StdEncoding.EncodeToString(c.ConnectXML))
	}
	return el
}

// ParseConnect reads rsp:Connect.
func ParseConnect(el *Element) (*Connect, error) {
	if !el.Is(NSShell, "Connect") {
		return nil, unexpected("rsp:Connect", el)
	}
	c := &Connect{}
	c.CommandID, _ = el.Attr("", "CommandId")
	if x := el.Child(NSPowerShell, "connectXml"); x != nil {
		b, err := decodeBase64(x.Text)
		if err != nil {
			return nil, &XMLError{Msg: "connectXml", Err: err}
		}
		c.ConnectXML = b
	}
	return c, nil
}

// ConnectResponse is the body of a ConnectResponse (empty for a command).
type ConnectResponse struct {
	InputStreams       string // "stdin pr" for a PowerShell shell
	OutputStreams      string // "stdout" for a PowerShell shell
	ConnectResponseXML []byte // the PSRP payload of connectResponseXml
}

// Element builds rsp:ConnectResponse.
func (c *ConnectResponse) Element() *Element {
	el := NewElement(NSShell, "ConnectResponse")
	if c.InputStreams != "" {
		el.AddText(NSShell, "InputStreams", c.InputStreams)
	}
	if c.OutputStreams != "" {
		el.AddText(NSShell, "OutputStreams", c.OutputStreams)
	}
	if c.ConnectResponseXML != nil {
		el.AddText(NSPowerShell, "connectResponseXml", base64.StdEncoding.EncodeToString(c.ConnectResponseXML))
	}
	return el
}

// ParseConnectResponse reads rsp:ConnectResponse (nil: empty body).
func ParseConnectResponse(el *Element) (*ConnectResponse, error) {
	c := &ConnectResponse{}
	if el == nil {
		return c, nil
	}
	if !el.Is(NSShell, "ConnectResponse") {
		return nil, unexpected("rsp:ConnectResponse", el)
	}
	c.InputStreams = el.ChildText(NSShell, "InputStreams")
	c.OutputStreams = el.ChildText(NSShell, "OutputStreams")
	if x := el.Child(NSPowerShell, "connectResponseXml"); x != nil {
		b, err := decodeBase64(x.Text)
		if err != nil {
			return nil, &XMLError{Msg: "connectResponseXml", Err: err}
		}
		c.ConnectResponseXML = b
	}
	return c, nil
}

// EmptyResponseElement returns the empty body element Windows sends for an
// action without a payload (SendResponse, SignalResponse), or nil for the
// actions answered with an empty s:Body (Delete, Disconnect, Reconnect).
func EmptyResponseElement(action string) *Element {
	switch action {
	case ActionSend:
		return NewElement(NSShell, "SendResponse")
	case ActionSignal:
		return NewElement(NSShell, "SignalResponse")
	}
	return nil
}
