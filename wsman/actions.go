package wsman

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ShellRef identifies a shell: its resource URI (the PowerShell
// configuration URI, or ResourceCmd) and its ShellId.
type ShellRef struct {
	ResourceURI string // PowerShellResourceURI(name) or ResourceCmd
	ShellID     string // sent upper-case in the SelectorSet
}

// canonicalID is the one place shell and command ids are put in the
// upper-case form Windows uses (and compares case-sensitively in places).
func canonicalID(id string) string { return strings.ToUpper(id) }

func (r ShellRef) selectors() []Selector {
	return []Selector{{Name: SelectorShellID, Value: canonicalID(r.ShellID)}}
}

func (c *Client) expect(env *Envelope, action string) error {
	if env.Header.Action != "" && env.Header.Action != ResponseAction(action) {
		return &UnexpectedResponseError{Want: shortAction(ResponseAction(action)), Got: env.Header.Action}
	}
	return nil
}

func (c *Client) call(ctx context.Context, r *Request) (*Envelope, error) {
	env, err := c.Invoke(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := c.expect(env, r.Action); err != nil {
		return nil, err
	}
	return env, nil
}

// PowerShellShell describes a PowerShell runspace-pool shell to create.
type PowerShellShell struct {
	// ConfigurationName selects the session configuration
	// ("Microsoft.PowerShell" when empty; a full resource URI is allowed).
	ConfigurationName string
	// ShellID is the shell id: it must be the runspace pool id (the RPID
	// of the messages in CreationXML, as PowerShell's own client sends), in
	// GUID form; it is sent upper-case. This package knows nothing of PSRP,
	// so it cannot take it from CreationXML: CreatePowerShell rejects an
	// empty or malformed ShellID with ErrInvalidShellID. (A server would
	// choose its own id, and a new client's Connect to the shell would then
	// fail, because Windows requires the pool id of CONNECT_RUNSPACEPOOL
	// to equal the shell id.)
	ShellID string
	// Name is the session name (shown by Get-PSSession; .NET skips shells
	// without a name when it lists disconnected sessions).
	Name string
	// IdleTimeOut asks for a shell idle timeout (>= 60 s); zero keeps the
	// server default.
	IdleTimeOut time.Duration
	// CreationXML is the PSRP payload (SESSION_CAPABILITY and
	// INIT_RUNSPACEPOOL fragments).
	CreationXML []byte
	// ProtocolVersion is the PSRP protocol version sent as the
	// protocolversion option (Windows requires it for PowerShell shells;
	// package session sends psrp.DefaultProtocolVersion). This package
	// knows nothing of PSRP versions: empty sends no option.
	ProtocolVersion string
	// NoProfile sends WINRS_NOPROFILE.
	NoProfile bool
	// Options are additional options.
	Options []Option
}

// ErrInvalidShellID is returned by CreatePowerShell, before anything is
// sent, when PowerShellShell.ShellID is empty or not a GUID.
var ErrInvalidShellID = errors.New("wsman: PowerShellShell.ShellID must be the runspace pool id (a GUID)")

// CreatePowerShell creates a PowerShell shell (opens the transport of a
// runspace pool). p.ShellID must be the runspace pool id (ErrInvalidShellID).
func (c *Client) CreatePowerShell(ctx context.Context, p PowerShellShell) (*CreateResponse, error) {
	if p.ShellID == "" {
		return nil, fmt.Errorf("%w: it is empty", ErrInvalidShellID)
	}
	if _, err := uuid.Parse(p.ShellID); err != nil || len(p.ShellID) != 36 {
		return nil, fmt.Errorf("%w: %q is not a GUID of the form XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX", ErrInvalidShellID, p.ShellID)
	}
	var opts []Option
	if p.ProtocolVersion != "" {
		opts = append(opts, Option{Name: OptionProtocolVersion, Value: p.ProtocolVersion, MustComply: true})
	}
	if p.NoProfile {
		opts = append(opts, Option{Name: OptionNoProfile, Value: "TRUE", MustComply: true})
	}
	opts = append(opts, p.Options...)
	s := &Shell{
		ShellID:       canonicalID(p.ShellID),
		Name:          p.Name,
		InputStreams:  "stdin pr",
		OutputStreams: "stdout",
		IdleTimeOut:   p.IdleTimeOut,
		CreationXML:   p.CreationXML,
	}
	if s.CreationXML == nil {
		s.CreationXML = []byte{}
	}
	return c.Create(ctx, PowerShellResourceURI(p.ConfigurationName), s, opts...)
}

// CmdShell describes a WinRS cmd.exe shell to create.
type CmdShell struct {
	Name             string        // optional shell name
	WorkingDirectory string        // optional start directory
	Environment      []EnvVar      // variables added to the shell's environment
	IdleTimeOut      time.Duration // zero keeps the server default
	Lifetime         time.Duration // zero keeps the server default
	// CodePage sends WINRS_CODEPAGE (e.g. 65001 for UTF-8) when non-zero.
	CodePage int
	// NoProfile sends WINRS_NOPROFILE.
	NoProfile bool
	// Options are additional options.
	Options []Option
}

// CreateCmd creates a WinRS cmd shell (streams stdin / stdout stderr).
func (c *Client) CreateCmd(ctx context.Context, p CmdShell) (*CreateResponse, error) {
	var opts []Option
	if p.NoProfile {
		opts = append(opts, Option{Name: OptionNoProfile, Value: "TRUE", MustComply: true})
	}
	if p.CodePage != 0 {
		opts = append(opts, Option{Name: OptionCodePage, Value: strconv.Itoa(p.CodePage)})
	}
	opts = append(opts, p.Options...)
	s := &Shell{
		Name:             p.Name,
		InputStreams:     "stdin",
		OutputStreams:    "stdout stderr",
		WorkingDirectory: p.WorkingDirectory,
		Environment:      p.Environment,
		IdleTimeOut:      p.IdleTimeOut,
		Lifetime:         p.Lifetime,
	}
	return c.Create(ctx, ResourceCmd, s, opts...)
}

// Create sends a Create with the given shell body and options and returns
// the parsed CreateResponse.
func (c *Client) Create(ctx context.Context, resourceURI string, shell *Shell, opts ...Option) (*CreateResponse, error) {
	env, err := c.call(ctx, &Request{
		Action: ActionCreate, ResourceURI: resourceURI, Options: opts,
		Body: []*Element{shell.CreateElement()},
	})
	if err != nil {
		return nil, err
	}
	return ParseCreateResponse(env.Body)
}

// Command starts a command in a shell and returns its CommandId. Unless opts
// set it, WINRS_SKIP_CMD_SHELL=False is sent, as WinRM clients do.
func (c *Client) Command(ctx context.Context, ref ShellRef, cmd *CommandLine, opts ...Option) (string, error) {
	has := false
	for _, o := range opts {
		if strings.EqualFold(o.Name, OptionSkipCmdShell) {
			has = true
		}
	}
	if !has {
		opts = append([]Option{{Name: OptionSkipCmdShell, Value: "False"}}, opts...)
	}
	cl := *cmd
	cl.CommandID = canonicalID(cl.CommandID)
	env, err := c.call(ctx, &Request{
		Action: ActionCommand, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(), Options: opts,
		Body: []*Element{cl.Element()},
	})
	if err != nil {
		return "", err
	}
	return ParseCommandResponse(env.BodyElement())
}

// Send sends input streams (stdin or pr; CommandId empty targets the shell).
func (c *Client) Send(ctx context.Context, ref ShellRef, streams ...Stream) error {
	_, err := c.call(ctx, &Request{
		Action: ActionSend, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		Body: []*Element{SendElement(streams...)},
	})
	return err
}

// Receive asks for output of the shell (r.CommandID empty) or of a command,
// with the WSMAN_CMDSHELL_OPTION_KEEPALIVE option. When the server has
// nothing within the OperationTimeout it answers with the w:TimedOut fault;
// Receive then returns a ReceiveResponse with TimedOut set and a nil error:
// the caller simply receives again. Every other fault is an error.
func (c *Client) Receive(ctx context.Context, ref ShellRef, r *Receive) (*ReceiveResponse, error) {
	rr := *r
	rr.CommandID = canonicalID(rr.CommandID)
	env, err := c.call(ctx, &Request{
		Action: ActionReceive, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		OperationTimeout: r.OperationTimeout,
		Options:          []Option{{Name: OptionKeepAlive, Value: "True"}},
		Body:             []*Element{rr.Element()},
	})
	if err != nil {
		var f *Fault
		if errors.As(err, &f) && errors.Is(f, ErrOperationTimeout) {
			return &ReceiveResponse{TimedOut: true}, nil
		}
		return nil, err
	}
	return ParseReceiveResponse(env.BodyElement())
}

// Signal sends a signal code to a command (or to the shell when commandID
// is empty): SignalTerminate, or SignalPowerShellStop to stop a pipeline.
func (c *Client) Signal(ctx context.Context, ref ShellRef, commandID, code string) error {
	_, err := c.call(ctx, &Request{
		Action: ActionSignal, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		Body: []*Element{(&Signal{CommandID: canonicalID(commandID), Code: code}).Element()},
	})
	return err
}

// StopPipeline stops a running PowerShell pipeline, as PowerShell's own
// client does: a Signal to the command with exactly SignalPowerShellStop
// (MS-PSRP 3.1.5.3.9). The command stays until it is terminated
// (SignalTerminate), so its remaining output and final PIPELINE_STATE can
// still be received. Any other code, such as SignalCtrlC, makes a Windows
// server close the command instead.
func (c *Client) StopPipeline(ctx context.Context, ref ShellRef, commandID string) error {
	return c.Signal(ctx, ref, commandID, SignalPowerShellStop)
}

// Delete deletes (closes) a shell.
func (c *Client) Delete(ctx context.Context, ref ShellRef) error {
	_, err := c.call(ctx, &Request{Action: ActionDelete, ResourceURI: ref.ResourceURI, Selectors: ref.selectors()})
	return err
}

// GetShell returns a shell's current description (State Connected or
// Disconnected, timeouts, owner, …). An unknown shell gives a *Fault
// matching ErrShellNotFound.
func (c *Client) GetShell(ctx context.Context, shellID string) (*Shell, error) {
	env, err := c.call(ctx, &Request{
		Action: ActionGet, ResourceURI: ResourceShell,
		Selectors: ShellRef{ShellID: shellID}.selectors(),
	})
	if err != nil {
		return nil, err
	}
	return ParseShell(env.BodyElement())
}

// Enumerate runs a WS-Enumeration over resourceURI and follows the
// EnumerationContext with Pull until EndOfSequence, returning every item.
// maxItems bounds the total (0: DefaultMaxEnumerationItems); exceeding it
// is an error, so a hostile server cannot make the loop endless.
func (c *Client) Enumerate(ctx context.Context, resourceURI string, e *Enumerate, maxItems int) ([]*Element, error) {
	if maxItems <= 0 {
		maxItems = DefaultMaxEnumerationItems
	}
	env, err := c.call(ctx, &Request{Action: ActionEnumerate, ResourceURI: resourceURI, Body: []*Element{e.Element()}})
	if err != nil {
		return nil, err
	}
	res, err := ParseEnumerationResult(env.BodyElement())
	if err != nil {
		return nil, err
	}
	items := res.Items
	maxEl := e.MaxElements
	if maxEl <= 0 {
		maxEl = DefaultMaxElements
	}
	for pulls := 0; !res.EndOfSequence; pulls++ {
		if res.Context == "" {
			// Without Optimize the first response has only a context;
			// an empty context without EndOfSequence ends the sequence
			// (Windows sends an empty context with EndOfSequence).
			break
		}
		if len(items) > maxItems || pulls > maxItems {
			return nil, &XMLError{Msg: "enumeration returned more than " + strconv.Itoa(maxItems) + " items", Err: ErrLimit}
		}
		env, err = c.call(ctx, &Request{
			Action: ActionPull, ResourceURI: resourceURI,
			Body: []*Element{(&Pull{Context: res.Context, MaxElements: maxEl}).Element()},
		})
		if err != nil {
			return nil, err
		}
		if res, err = ParseEnumerationResult(env.BodyElement()); err != nil {
			return nil, err
		}
		items = append(items, res.Items...)
	}
	if len(items) > maxItems {
		return nil, &XMLError{Msg: "enumeration returned more than " + strconv.Itoa(maxItems) + " items", Err: ErrLimit}
	}
	return items, nil
}

// DefaultMaxEnumerationItems bounds the items Enumerate collects.
const DefaultMaxEnumerationItems = 100000

// EnumerateShells lists the shells the user may see (all resource URIs and
// states; filter PowerShell ones with IsPowerShell).
func (c *Client) EnumerateShells(ctx context.Context) ([]*Shell, error) {
	items, err := c.Enumerate(ctx, ResourceShell, &Enumerate{Optimize: true, MaxElements: DefaultMaxElements}, 0)
	if err != nil {
		return nil, err
	}
	var out []*Shell
	for _, it := range items {
		if !it.Is(NSShell, "Shell") {
			continue
		}
		s, err := ParseShell(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// IsPowerShell reports whether the shell is a PowerShell runspace pool
// (its ResourceUri is under http://schemas.microsoft.com/powershell/).
func (s *Shell) IsPowerShell() bool { return isPowerShellURI(s.ResourceURI) }

// EnumerateCommands lists the commands of one shell (through the
// SelectorFilter on ShellId, as PowerShell does).
func (c *Client) EnumerateCommands(ctx context.Context, shellID string) ([]*CommandInfo, error) {
	items, err := c.Enumerate(ctx, ResourceCommand, &Enumerate{
		Optimize: true, MaxElements: DefaultMaxElements,
		FilterSelectors: ShellRef{ShellID: shellID}.selectors(),
	}, 0)
	if err != nil {
		return nil, err
	}
	var out []*CommandInfo
	for _, it := range items {
		if !it.Is(NSShell, "Command") {
			continue
		}
		ci, err := ParseCommandInfo(it)
		if err != nil {
			return nil, err
		}
		out = append(out, ci)
	}
	return out, nil
}

// Disconnect disconnects a shell. d may be nil (empty rsp:Disconnect, the
// server keeps its IdleTimeOut and BufferMode).
func (c *Client) Disconnect(ctx context.Context, ref ShellRef, d *Disconnect) error {
	if d == nil {
		d = &Disconnect{}
	}
	if d.BufferMode != "" && d.BufferMode != BufferModeBlock && d.BufferMode != BufferModeDrop {
		return errors.New("wsman: BufferMode must be Block or Drop")
	}
	_, err := c.call(ctx, &Request{
		Action: ActionDisconnect, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		Body: []*Element{d.Element()},
	})
	return err
}

// Reconnect reconnects this client (same SessionId) to a shell it
// disconnected (commandID empty, empty body as Windows accepts), or to one
// of the shell's commands (<rsp:Reconnect CommandId="…"/>; this command
// form follows MS-PSRP and is not captured from a Windows client).
func (c *Client) Reconnect(ctx context.Context, ref ShellRef, commandID string) error {
	body := (&Reconnect{CommandID: canonicalID(commandID)}).Element()
	r := &Request{Action: ActionReconnect, ResourceURI: ref.ResourceURI, Selectors: ref.selectors()}
	if body != nil {
		r.Body = []*Element{body}
	}
	_, err := c.call(ctx, r)
	return err
}

// Connect connects a new client to a disconnected PowerShell shell with the
// PSRP connectXml payload (SESSION_CAPABILITY + CONNECT_RUNSPACEPOOL) and
// returns the server's connectResponseXml in the ConnectResponse.
// protocolVersion is the PSRP protocol version sent as the protocolversion
// option (empty: none is sent; package session sends
// psrp.DefaultProtocolVersion).
func (c *Client) Connect(ctx context.Context, ref ShellRef, connectXML []byte, protocolVersion string) (*ConnectResponse, error) {
	if connectXML == nil {
		connectXML = []byte{}
	}
	var opts []Option
	if protocolVersion != "" {
		opts = []Option{{Name: OptionProtocolVersion, Value: protocolVersion, MustComply: true}}
	}
	env, err := c.call(ctx, &Request{
		Action: ActionConnect, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		Options: opts,
		Body:    []*Element{(&Connect{ConnectXML: connectXML}).Element()},
	})
	if err != nil {
		return nil, err
	}
	return ParseConnectResponse(env.BodyElement())
}

// ConnectCommand connects to a running command of a shell this client has
// connected to (<rsp:Connect CommandId="…"/>); then Receive its output.
func (c *Client) ConnectCommand(ctx context.Context, ref ShellRef, commandID string) error {
	_, err := c.call(ctx, &Request{
		Action: ActionConnect, ResourceURI: ref.ResourceURI, Selectors: ref.selectors(),
		Body: []*Element{(&Connect{CommandID: canonicalID(commandID)}).Element()},
	})
	return err
}

// GetConfig reads WinRM's configuration (usually needs administrator
// rights: others get an access-denied fault).
func (c *Client) GetConfig(ctx context.Context) (*ServiceConfig, error) {
	env, err := c.call(ctx, &Request{Action: ActionGet, ResourceURI: ResourceConfig})
	if err != nil {
		return nil, err
	}
	return ParseConfig(env.BodyElement())
}
