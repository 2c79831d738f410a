package wsmantest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// Kind says which kind of shell a command runs in.
type Kind int

// Kinds of command.
const (
	// KindPowerShell is a PSRP pipeline on a PowerShell shell
	// (resource URI http://schemas.microsoft.com/powershell/<configuration>).
	KindPowerShell Kind = iota
	// KindCmd is a WinRS command on a cmd shell
	// (resource URI http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd).
	KindCmd
)

// String returns "PowerShell" or "cmd".
func (k Kind) String() string {
	if k == KindCmd {
		return "cmd"
	}
	return "PowerShell"
}

// Command is one command of a PowerShell pipeline, as the client sent it in
// CREATE_PIPELINE.
type Command struct {
	// Name is the command name, or the script text when IsScript is true.
	Name string
	// IsScript is true for a script (AddScript), false for a command
	// (AddCommand).
	IsScript bool
	// Parameters are the command's arguments in order; Name is empty for a
	// positional argument.
	Parameters []Parameter
}

// Parameter is one argument of a Command.
type Parameter struct {
	// Name is the parameter's name, empty for a positional argument.
	Name string
	// Value is the argument as the client sent it.
	Value clixml.Value
}

// Invocation is one command being run by a Handler: who asked for it, what
// was asked, and the writers for its output.
//
// Its Write methods block while the command's output buffer is full and the
// shell's BufferMode is Block (the pipeline is suspended, as on Windows) and
// return the context's error when the command is stopped or its shell is
// deleted. With BufferMode Drop they never block: the oldest buffered output
// is discarded instead. The methods are safe for concurrent use.
type Invocation struct {
	// Kind is the kind of shell the command runs in.
	Kind Kind
	// ShellID and CommandID identify the command (upper-case GUIDs).
	ShellID, CommandID string
	// ConfigurationName is the PowerShell endpoint (for example
	// "Microsoft.PowerShell"); empty for cmd shells.
	ConfigurationName string
	// User is the authenticated user that created the command.
	User string
	// Pipeline holds the commands of a PowerShell pipeline, in order: of
	// its only statement, or, when the client sent several statements, of
	// the statement the handler runs (see Statements).
	Pipeline []Command
	// Statements holds the statements of a PowerShell pipeline as the
	// client sent them (PowerShell.AddStatement), each a list of commands;
	// most pipelines have one, equal to Pipeline. As on Windows, the server
	// runs several statements one after the other, each on its own: it
	// resolves a handler for each (registered, built-in or command not
	// found) and calls it with an Invocation whose Pipeline and Statements
	// hold that statement alone. The first statement reads the pipeline
	// input; the others read none. Their output goes to the pipeline's
	// output in order. A statement that fails writes its error record and
	// the next statement runs (as PowerShell runs a batch of statements),
	// unless it failed because of an action preference of Stop (an
	// ActionPreferenceStopException record, or an error under -ErrorAction
	// Stop in the built-in subset), which fails the pipeline at once. When
	// every statement has run, the pipeline completes.
	Statements [][]Command
	// NoInput is true when the client said the pipeline takes no input.
	NoInput bool
	// CommandLine is the rsp:Command text: the executable of a cmd command,
	// or the display text a PowerShell client put there.
	CommandLine string
	// Arguments are the rsp:Arguments of a cmd command.
	Arguments []string

	ctx  context.Context
	sink invocationSink
	srv  *Server
}

// invocationSink is what a shell implementation provides to an Invocation.
type invocationSink interface {
	// write queues one output item of a PowerShell pipeline (a
	// clixml.Value for output, or one of the record types) on its stream.
	write(ctx context.Context, s stream, v any) error
	// writeBytes queues stdout or stderr bytes of a cmd command.
	writeBytes(ctx context.Context, s stream, p []byte) (int, error)
	// readInput returns the next pipeline input value, or io.EOF.
	readInput(ctx context.Context) (clixml.Value, error)
	// readStdin reads stdin bytes of a cmd command.
	readStdin(ctx context.Context, p []byte) (int, error)
	// hostCall sends a host call and waits for its response.
	hostCall(ctx context.Context, call HostCall) (clixml.Value, error)
	// exit records the exit code of a cmd command.
	exit(code int)
}

// stream names the output streams.
type stream int

const (
	streamOutput stream = iota
	streamError
	streamWarning
	streamVerbose
	streamDebug
	streamInformation
	streamProgress
	streamStdout
	streamStderr
)

// ErrWrongKind is returned by the Invocation methods that belong to the
// other kind of shell (WriteOutput on a cmd command, Stdout on a PowerShell
// pipeline, ...).
var ErrWrongKind = errors.New("wsmantest: method not available for this kind of command")

// Context returns the command's context (the one passed to the Handler).
func (inv *Invocation) Context() context.Context { return inv.ctx }

// Text returns the text handlers are matched against: the script or command
// name of the first pipeline command for PowerShell (all commands joined
// with " | " when there are several), or the command line with its
// arguments for cmd.
func (inv *Invocation) Text() string {
	if inv.Kind == KindCmd {
		if len(inv.Arguments) == 0 {
			return inv.CommandLine
		}
		return inv.CommandLine + " " + strings.Join(inv.Arguments, " ")
	}
	parts := make([]string, 0, len(inv.Pipeline))
	for _, c := range inv.Pipeline {
		parts = append(parts, c.Name)
	}
	return strings.Join(parts, " | ")
}

// Script returns the text of the first pipeline command when it is a script,
// or "".
func (inv *Invocation) Script() string {
	if inv.Kind == KindPowerShell && len(inv.Pipeline) > 0 && inv.Pipeline[0].IsScript {
		return inv.Pipeline[0].Name
	}
	return ""
}

// commandName is the name used for by-name lookup.
func (inv *Invocation) commandName() string {
	if inv.Kind == KindCmd {
		f := strings.Fields(inv.CommandLine)
		if len(f) == 0 {
			return ""
		}
		name := strings.Trim(f[0], `"`)
		if i := strings.LastIndexAny(name, `\/`); i >= 0 {
			name = name[i+1:]
		}
		return name
	}
	if len(inv.Pipeline) == 0 {
		return ""
	}
	return strings.TrimSpace(inv.Pipeline[0].Name)
}

// Logger returns the server's logger (never nil; discards when the server
// has none).
func (inv *Invocation) Logger() *slog.Logger { return inv.srv.logger }

// Clock returns the server's clock.
func (inv *Invocation) Clock() Clock { return inv.srv.clock }

// Sleep waits for d on the server's clock, or until the command is stopped
// (then it returns the context's error).
func (inv *Invocation) Sleep(d time.Duration) error {
	if d <= 0 {
		return inv.ctx.Err()
	}
	t := inv.srv.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-inv.ctx.Done():
		return inv.ctx.Err()
	}
}

// WriteOutput writes objects to the output stream (PIPELINE_OUTPUT).
func (inv *Invocation) WriteOutput(values ...clixml.Value) error {
	if inv.Kind != KindPowerShell {
		return ErrWrongKind
	}
	for _, v := range values {
		if v == nil {
			v = clixml.Nil{}
		}
		if err := inv.sink.write(inv.ctx, streamOutput, v); err != nil {
			return err
		}
	}
	return nil
}

// WriteError writes a non-terminating error record (ERROR_RECORD).
func (inv *Invocation) WriteError(rec *ErrorRecord) error {
	if inv.Kind != KindPowerShell {
		return ErrWrongKind
	}
	return inv.sink.write(inv.ctx, streamError, rec)
}

// WriteWarning writes a warning record (WARNING_RECORD).
func (inv *Invocation) WriteWarning(message string) error {
	return inv.writeInformational(streamWarning, message)
}

// WriteVerbose writes a verbose record (VERBOSE_RECORD).
func (inv *Invocation) WriteVerbose(message string) error {
	return inv.writeInformational(streamVerbose, message)
}

// WriteDebug writes a debug record (DEBUG_RECORD).
func (inv *Invocation) WriteDebug(message string) error {
	return inv.writeInformational(streamDebug, message)
}

func (inv *Invocation) writeInformational(s stream, message string) error {
	if inv.Kind != KindPowerShell {
		return ErrWrongKind
	}
	return inv.sink.write(inv.ctx, s, message)
}

// WriteInformation writes an information record (INFORMATION_RECORD). Zero
// fields get defaults: TimeGenerated the server clock's now, Computer
// "localhost", ProcessID the fake process id.
func (inv *Invocation) WriteInformation(rec *InformationRecord) error {
	if inv.Kind != KindPowerShell {
		return ErrWrongKind
	}
	r := *rec
	if r.TimeGenerated.IsZero() {
		r.TimeGenerated = inv.srv.clock.Now()
	}
	if r.Computer == "" {
		r.Computer = inv.srv.opts.ComputerName
	}
	if r.User == "" {
		r.User = inv.User
	}
	return inv.sink.write(inv.ctx, streamInformation, &r)
}

// WriteProgress writes a progress record (PROGRESS_RECORD).
func (inv *Invocation) WriteProgress(rec *ProgressRecord) error {
	if inv.Kind != KindPowerShell {
		return ErrWrongKind
	}
	r := *rec
	return inv.sink.write(inv.ctx, streamProgress, &r)
}

// ReadInput returns the next pipeline input value (PIPELINE_INPUT), blocking
// until one arrives. It returns io.EOF after END_OF_PIPELINE_INPUT (at once
// when the pipeline has no input) and the context's error when the command
// is stopped.
func (inv *Invocation) ReadInput() (clixml.Value, error) {
	if inv.Kind != KindPowerShell {
		return nil, ErrWrongKind
	}
	return inv.sink.readInput(inv.ctx)
}

// HostCall makes a PIPELINE_HOST_CALL and waits for the client's
// PIPELINE_HOST_RESPONSE. It returns the response's return value (nil for
// void methods) or the error the client reported as an *ErrorRecord.
func (inv *Invocation) HostCall(call HostCall) (clixml.Value, error) {
	if inv.Kind != KindPowerShell {
		return nil, ErrWrongKind
	}
	return inv.sink.hostCall(inv.ctx, call)
}

// Stdout returns a writer for the stdout stream of a cmd command. Each Write
// is one chunk of output; it blocks while the buffer is full (BufferMode
// Block). On a PowerShell pipeline it returns a writer that fails with
// ErrWrongKind.
func (inv *Invocation) Stdout() io.Writer { return &streamWriter{inv: inv, s: streamStdout} }

// Stderr returns a writer for the stderr stream of a cmd command.
func (inv *Invocation) Stderr() io.Writer { return &streamWriter{inv: inv, s: streamStderr} }

// Stdin returns a reader of the bytes the client sends on stdin to a cmd
// command; it returns io.EOF after the client's End="true".
func (inv *Invocation) Stdin() io.Reader { return stdinReader{inv} }

// Exit sets the exit code a cmd command reports in its Done CommandState.
func (inv *Invocation) Exit(code int) {
	if inv.Kind == KindCmd {
		inv.sink.exit(code)
	}
}

type streamWriter struct {
	inv *Invocation
	s   stream
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if w.inv.Kind != KindCmd {
		return 0, ErrWrongKind
	}
	return w.inv.sink.writeBytes(w.inv.ctx, w.s, p)
}

type stdinReader struct{ inv *Invocation }

func (r stdinReader) Read(p []byte) (int, error) {
	if r.inv.Kind != KindCmd {
		return 0, ErrWrongKind
	}
	return r.inv.sink.readStdin(r.inv.ctx, p)
}

// ErrNoSessionKey is returned by DecryptSecureString before the client and
// server have exchanged a session key (PUBLIC_KEY / ENCRYPTED_SESSION_KEY).
var ErrNoSessionKey = errors.New("wsmantest: no session key has been exchanged with the client")

// DecryptSecureString decrypts a SecureString argument or input value sent
// by the client, with the session key exchanged on this runspace pool.
func (inv *Invocation) DecryptSecureString(v clixml.SecureString) (string, error) {
	if inv.Kind != KindPowerShell {
		return "", ErrWrongKind
	}
	s := inv.srv
	s.mu.Lock()
	var cipher interface {
		DecryptValue(clixml.SecureString) (string, error)
	}
	if sh := s.shells[inv.ShellID]; sh != nil && sh.ps != nil {
		if c := sh.ps.pool.SecureStringCipher(); c != nil {
			cipher = c
		}
	}
	s.mu.Unlock()
	if cipher == nil {
		return "", ErrNoSessionKey
	}
	return cipher.DecryptValue(v)
}
