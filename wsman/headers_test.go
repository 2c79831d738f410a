package wsman

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerAll answers every action the client sends with a well-formed
// response of the right kind.
func answerAll(req *Envelope) (int, *Envelope) {
	h := req.Header
	switch h.Action {
	case ActionCreate:
		s := &Shell{ShellID: "0D6B1E37-3A6F-4C6F-8F58-2B1D2B9D5C11", ResourceURI: h.ResourceURI, State: ShellStateConnected}
		return 200, NewResponse(req, (&CreateResponse{ResourceCreated: &ResourceCreated{Address: h.To, ResourceURI: h.ResourceURI,
			Selectors: []Selector{{Name: SelectorShellID, Value: s.ShellID}}}, Shell: s}).Elements()...)
	case ActionCommand:
		return 200, NewResponse(req, CommandResponseElement("4A1D3A5C-0000-4000-8000-000000000001"))
	case ActionSend, ActionSignal:
		return 200, NewResponse(req, EmptyResponseElement(h.Action))
	case ActionReceive:
		return 200, NewResponse(req, (&ReceiveResponse{Streams: []Stream{{Name: StreamStdout, Data: []byte("x")}}}).Element())
	case ActionGet:
		if h.ResourceURI == ResourceConfig {
			return 200, NewResponse(req, (&ServiceConfig{MaxEnvelopeSizeKB: 500}).Element())
		}
		return 200, NewResponse(req, (&Shell{ShellID: h.ShellID(), ResourceURI: PowerShellResourceURI(""), State: ShellStateDisconnected}).Element())
	case ActionEnumerate:
		return 200, NewResponse(req, (&EnumerationResult{Context: "ctx-1"}).EnumerateResponseElement())
	case ActionPull:
		return 200, NewResponse(req, (&EnumerationResult{EndOfSequence: true}).PullResponseElement())
	case ActionConnect:
		return 200, NewResponse(req, (&ConnectResponse{InputStreams: "stdin pr", OutputStreams: "stdout", ConnectResponseXML: []byte("r")}).Element())
	}
	return 200, NewResponse(req) // Delete, Disconnect, Reconnect
}

// Every request the client builds, whatever its action, carries the
// standard headers: To, ReplyTo anonymous, MessageID "uuid:" + upper case
// (new each time), MaxEnvelopeSize, OperationTimeout, Locale, DataLocale
// and this client's wsmv:SessionId (Windows refuses a Disconnect without
// it), and an upper-case ShellId selector where a shell is addressed.
func TestEveryRequestCarriesStandardHeaders(t *testing.T) {
	var mu sync.Mutex
	var reqs []*Envelope
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		return answerAll(req)
	})
	c := newTestClient(t, srv.URL, Config{OperationTimeout: 30 * time.Second, Locale: "de-DE", DataLocale: "fr-FR"})
	ctx := context.Background()
	lower := ShellRef{ResourceURI: PowerShellResourceURI(""), ShellID: "b6631d8e-65a0-49f2-9053-a1b156c95777"}
	calls := map[string]func() error{
		"CreatePowerShell": func() error {
			_, err := c.CreatePowerShell(ctx, PowerShellShell{ShellID: lower.ShellID, CreationXML: []byte("x")})
			return err
		},
		"CreateCmd": func() error { _, err := c.CreateCmd(ctx, CmdShell{}); return err },
		"Command": func() error {
			_, err := c.Command(ctx, lower, &CommandLine{CommandID: "4a1d3a5c-0000-4000-8000-000000000001"})
			return err
		},
		"Send":    func() error { return c.Send(ctx, lower, Stream{Name: StreamStdin, Data: []byte("x")}) },
		"Receive": func() error { _, err := c.Receive(ctx, lower, &Receive{}); return err },
		"Signal": func() error {
			return c.Signal(ctx, lower, "4a1d3a5c-0000-4000-8000-000000000001", SignalPowerShellStop)
		},
		"Delete":          func() error { return c.Delete(ctx, lower) },
		"GetShell":        func() error { _, err := c.GetShell(ctx, lower.ShellID); return err },
		"GetConfig":       func() error { _, err := c.GetConfig(ctx); return err },
		"EnumerateShells": func() error { _, err := c.EnumerateShells(ctx); return err },
		"EnumerateCommands": func() error {
			_, err := c.EnumerateCommands(ctx, lower.ShellID)
			return err
		},
		"Disconnect": func() error {
			return c.Disconnect(ctx, lower, &Disconnect{IdleTimeOut: time.Hour, BufferMode: BufferModeDrop})
		},
		"Reconnect":      func() error { return c.Reconnect(ctx, lower, "") },
		"Connect":        func() error { _, err := c.Connect(ctx, lower, []byte("x"), ""); return err },
		"ConnectCommand": func() error { return c.ConnectCommand(ctx, lower, "4a1d3a5c-0000-4000-8000-000000000001") },
	}
	messageID := regexp.MustCompile(`^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	seenIDs := map[string]bool{}
	actions := map[string]bool{}
	for name, call := range calls {
		mu.Lock()
		reqs = nil
		mu.Unlock()
		require.NoError(t, call(), name)
		mu.Lock()
		got := reqs
		mu.Unlock()
		require.NotEmpty(t, got, name)
		for _, req := range got {
			h := req.Header
			actions[h.Action] = true
			what := name + " " + shortAction(h.Action)
			assert.Equal(t, c.URL(), h.To, what)
			assert.Equal(t, AnonymousAddress, h.ReplyTo, what)
			assert.Regexp(t, messageID, h.MessageID, what)
			assert.False(t, seenIDs[h.MessageID], "%s: MessageID reused", what)
			seenIDs[h.MessageID] = true
			assert.Equal(t, c.SessionID(), h.SessionID, "%s: wsmv:SessionId", what)
			assert.Equal(t, DefaultMaxEnvelopeSize, h.MaxEnvelopeSize, what)
			assert.Equal(t, 30*time.Second, h.OperationTimeout, what)
			assert.Equal(t, "de-DE", h.Locale, what)
			assert.Equal(t, "fr-FR", h.DataLocale, what)
			assert.NotEmpty(t, h.ResourceURI, what)
			if id, ok := h.Selector(SelectorShellID); ok {
				assert.Equal(t, strings.ToUpper(lower.ShellID), id, "%s: ShellId upper case", what)
			}
			switch h.Action {
			case ActionEnumerate, ActionPull, ActionCreate:
			default:
				if h.ResourceURI != ResourceConfig {
					assert.Equal(t, strings.ToUpper(lower.ShellID), h.ShellID(), "%s: ShellId selector", what)
				}
			}
		}
	}
	for _, a := range []string{ActionCreate, ActionCommand, ActionSend, ActionReceive, ActionSignal, ActionDelete,
		ActionGet, ActionEnumerate, ActionPull, ActionDisconnect, ActionReconnect, ActionConnect} {
		assert.True(t, actions[a], "action %s not exercised", shortAction(a))
	}
}
