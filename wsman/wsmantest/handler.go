package wsmantest

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Handler runs one command on the fake server: a PowerShell pipeline created
// with CREATE_PIPELINE on a PowerShell shell, or a WinRS command on a cmd
// shell.
//
// ctx is cancelled when the command is stopped (the PowerShell stop signal
// crtl_c, or terminate), when its shell is deleted or expires, and when the
// server closes. The Invocation carries the command's arguments and input and
// the writers for its output.
//
// For a PowerShell pipeline, returning nil ends it in state Completed; an
// error ends it in state Failed with the error as the reason (an *ErrorRecord
// is sent as it is, any other error as a generic error record); a handler
// that returns after ctx was cancelled by a stop ends it in state Stopped.
// For a cmd command, the exit code is the one set with Invocation.Exit
// (default 0, or 1 when the handler returns an error, whose text is then
// written to stderr).
type Handler interface {
	Run(ctx context.Context, inv *Invocation) error
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, inv *Invocation) error

// Run calls f(ctx, inv).
func (f HandlerFunc) Run(ctx context.Context, inv *Invocation) error { return f(ctx, inv) }

// Mux finds the Handler of a command. Handlers are registered by command
// name, by exact script text, or by a regular expression. Lookup order: exact
// script text, then command name, then patterns in registration order. A Mux
// is safe for concurrent use; handlers may be added while the server runs.
type Mux struct {
	mu       sync.RWMutex
	byName   map[string]Handler // lower-case name
	display  map[string]string  // lower-case name → name as registered
	byScript map[string]Handler // trimmed script text
	patterns []patternHandler
}

type patternHandler struct {
	re *regexp.Regexp
	h  Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux {
	return &Mux{byName: map[string]Handler{}, display: map[string]string{}, byScript: map[string]Handler{}}
}

// Handle registers h for a command name, compared case-insensitively: a
// PowerShell command added with AddCommand (IsScript false) of that name, a
// PowerShell script whose whole text is that name, or a cmd-shell command
// whose executable (the first word of rsp:Command) is that name (a trailing
// ".exe" is ignored on both sides).
func (m *Mux) Handle(name string, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byName[normName(name)] = h
	m.display[normName(name)] = strings.TrimSpace(name)
}

// HandleFunc registers f for a command name, like Handle.
func (m *Mux) HandleFunc(name string, f func(ctx context.Context, inv *Invocation) error) {
	m.Handle(name, HandlerFunc(f))
}

// HandleScript registers h for a PowerShell script whose text, with leading
// and trailing white space removed, equals script exactly (for cmd shells:
// the whole command line with its arguments).
func (m *Mux) HandleScript(script string, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byScript[strings.TrimSpace(script)] = h
}

// HandlePattern registers h for every command whose text (see
// Invocation.Text) matches re.
func (m *Mux) HandlePattern(re *regexp.Regexp, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patterns = append(m.patterns, patternHandler{re: re, h: h})
}

// Lookup returns the handler registered for inv, if any.
func (m *Mux) Lookup(inv *Invocation) (Handler, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	text := strings.TrimSpace(inv.Text())
	if inv.Kind == KindCmd || (len(inv.Pipeline) > 0 && inv.Pipeline[0].IsScript) {
		if h, ok := m.byScript[text]; ok {
			return h, true
		}
	}
	if name := inv.commandName(); name != "" {
		if h, ok := m.byName[normName(name)]; ok {
			return h, true
		}
	}
	for _, p := range m.patterns {
		if p.re.MatchString(text) {
			return p.h, true
		}
	}
	return nil, false
}

func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.TrimSuffix(s, ".exe")
}

// BuiltinResolver returns the built-in handler for an invocation that no
// registered handler matched, or nil when the built-in subset does not
// handle it.
type BuiltinResolver func(inv *Invocation) Handler

// builtin is the resolver of the built-in script subset. It is set by the
// builtin*.go files of this package (in an init function); nil means there
// are no built-ins and unmatched commands fail with "command not found".
var builtin BuiltinResolver

// resolve picks the handler for inv: for a pipeline of several statements,
// the one that runs each statement on its own (runStatements); otherwise
// the server's Mux, then the built-ins (unless disabled), then the
// command-not-found handler.
func (s *Server) resolve(inv *Invocation) Handler {
	if inv.Kind == KindPowerShell && len(inv.Statements) > 1 {
		return HandlerFunc(s.runStatements)
	}
	if h, ok := s.mux.Lookup(inv); ok {
		return h
	}
	if !s.opts.DisableBuiltins && builtin != nil {
		if h := builtin(inv); h != nil {
			return h
		}
	}
	return HandlerFunc(commandNotFound)
}

// commandNotFound is the fallback handler: it fails the way PowerShell fails
// for an unknown command, and the way cmd.exe does on a cmd shell.
func commandNotFound(_ context.Context, inv *Invocation) error {
	name := inv.commandName()
	if inv.Kind == KindPowerShell && len(inv.Pipeline) > 0 && inv.Pipeline[0].IsScript {
		// PowerShell names the command it could not resolve, not the script.
		name = firstCommandName(inv.Pipeline[0].Name)
	}
	if name == "" {
		name = strings.TrimSpace(inv.Text())
	}
	if inv.Kind == KindCmd {
		_, _ = inv.Stderr().Write([]byte("'" + name + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"))
		inv.Exit(1)
		return nil
	}
	rec := CommandNotFoundError(name)
	if len(inv.Pipeline) > 0 && inv.Pipeline[0].IsScript {
		// Inside a script, an unknown command is a non-terminating error:
		// the error record goes to the error stream and the pipeline completes.
		return inv.WriteError(rec)
	}
	// A command added with AddCommand fails the pipeline.
	return rec
}

// firstCommandName returns the first word of script in command position (at
// the start of a statement, after "|", "{" or "(") that is not a keyword or
// a number: the command PowerShell would report as not found when nothing
// resolves. It returns "" when the script has no such word (valid
// PowerShell without a command, which the caller reports as a whole), and
// the first white-space separated word when the script cannot be
// tokenized.
func firstCommandName(script string) string {
	toks, err := lex(script, defaultBuiltinLimits.maxTokens)
	if err == nil {
		cmdPos := true
		for _, t := range toks {
			switch t.kind {
			case tkNewline, tkSemi, tkPipe, tkLBrace, tkAssign:
				cmdPos = true
				continue
			case tkParen:
				cmdPos = script[t.pos] == '('
				continue
			case tkWord:
				if cmdPos && isCommandWord(t.text) {
					return t.text
				}
				// A keyword (if, foreach ...) is followed by a condition or a
				// block, where commands appear after "(" or "{".
				cmdPos = false
				continue
			}
			cmdPos = false
		}
		return ""
	}
	if f := strings.Fields(script); len(f) > 0 {
		return f[0]
	}
	return ""
}

// isCommandWord reports whether a bare word in command position names a
// command: not a keyword, not a number, not a parameter, type literal or
// member access.
func isCommandWord(w string) bool {
	if l := strings.ToLower(w); l == "" || psKeywords[l] || l == "foreach" || looksNumeric(w) {
		return false
	}
	switch w[0] {
	case '-', '[', '@', '+', '!', '>', '<', '*', '/':
		return false
	case '.':
		// .\script.ps1 is a command; .Name is a member access.
		return len(w) > 1 && (w[1] == '\\' || w[1] == '/')
	}
	return true
}

// names returns the command names handlers were registered for with Handle
// (as registered), sorted case-insensitively.
func (m *Mux) names() []string {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.byName))
	for n := range m.byName {
		out = append(out, m.display[n])
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}
