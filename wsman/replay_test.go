package wsman

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical renders an element tree order-insensitively (attributes and
// children sorted), for element-by-element comparison of requests. Attribute
// End="false" (the default) is dropped, and text is trimmed.
func canonical(e *Element) string {
	if e == nil {
		return "<nil>"
	}
	var attrs []string
	for _, a := range e.Attrs {
		if a.Local == "End" && strings.EqualFold(a.Value, "false") {
			continue
		}
		v := a.Value
		if a.Local == "End" {
			v = strings.ToLower(v) // xs:boolean: pypsrp writes True, Windows true
		}
		attrs = append(attrs, "{"+a.Space+"}"+a.Local+"="+v)
	}
	sort.Strings(attrs)
	var kids []string
	for _, c := range e.Children {
		kids = append(kids, canonical(c))
	}
	sort.Strings(kids)
	return "<{" + e.Space + "}" + e.Local + " " + strings.Join(attrs, " ") + ">" +
		strings.TrimSpace(e.Text) + strings.Join(kids, "") + "</>"
}

type optKey struct {
	name, value string
	must        bool
}

func optionSet(opts []Option) map[optKey]bool {
	m := map[optKey]bool{}
	for _, o := range opts {
		m[optKey{strings.ToLower(o.Name), strings.ToLower(o.Value), o.MustComply}] = true
	}
	return m
}

// compareRequest checks that got carries what the recorded request had,
// ignoring ids (MessageID, SessionId value) and To.
func compareRequest(want, got *Envelope) []string {
	var diffs []string
	d := func(field string, w, g any) {
		diffs = append(diffs, field+": recorded "+toString(w)+", sent "+toString(g))
	}
	wh, gh := want.Header, got.Header
	if wh.Action != gh.Action {
		d("Action", wh.Action, gh.Action)
	}
	if !strings.EqualFold(wh.ResourceURI, gh.ResourceURI) {
		d("ResourceURI", wh.ResourceURI, gh.ResourceURI)
	}
	if wh.MaxEnvelopeSize != gh.MaxEnvelopeSize {
		d("MaxEnvelopeSize", wh.MaxEnvelopeSize, gh.MaxEnvelopeSize)
	}
	if len(wh.Invalid) == 0 && wh.OperationTimeout != gh.OperationTimeout {
		d("OperationTimeout", wh.OperationTimeout, gh.OperationTimeout)
	}
	if wh.Locale != gh.Locale || wh.DataLocale != gh.DataLocale {
		d("Locale", wh.Locale+"/"+wh.DataLocale, gh.Locale+"/"+gh.DataLocale)
	}
	if wh.ReplyTo != gh.ReplyTo {
		d("ReplyTo", wh.ReplyTo, gh.ReplyTo)
	}
	if (wh.SessionID == "") != (gh.SessionID == "") || !strings.HasPrefix(gh.SessionID, "uuid:") {
		d("SessionId", wh.SessionID, gh.SessionID)
	}
	if !strings.HasPrefix(gh.MessageID, "uuid:") || gh.MessageID != "uuid:"+strings.ToUpper(gh.MessageID[5:]) {
		d("MessageID form", wh.MessageID, gh.MessageID)
	}
	if toString(wh.Selectors) != toString(gh.Selectors) {
		d("Selectors", wh.Selectors, gh.Selectors)
	}
	wo, gob := optionSet(wh.Options), optionSet(gh.Options)
	if len(wo) != len(gob) {
		d("Options", wh.Options, gh.Options)
	} else {
		for k := range wo {
			if !gob[k] {
				d("Options", wh.Options, gh.Options)
				break
			}
		}
	}
	if canonical(want.BodyElement()) != canonical(got.BodyElement()) {
		d("Body", canonical(want.BodyElement()), canonical(got.BodyElement()))
	}
	return diffs
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []Selector:
		var s []string
		for _, e := range x {
			s = append(s, e.Name+"="+e.Value)
		}
		return strings.Join(s, ",")
	}
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmtAny(v), "\n", " "), "\t", " "))
}

// replayServer answers requests with a recording's responses in order,
// comparing each request with the recorded one.
type replayServer struct {
	t     *testing.T
	rec   *recordings.Recording
	mu    sync.Mutex
	next  int
	diffs []string
	srv   *httptest.Server
}

func newReplayServer(t *testing.T, rec *recordings.Recording) *replayServer {
	rs := &replayServer{t: t, rec: rec}
	rs.srv = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(rs.srv.Close)
	return rs
}

func (rs *replayServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rs.mu.Lock()
	i := rs.next
	rs.next++
	rs.mu.Unlock()
	if i >= len(rs.rec.Messages) {
		http.Error(w, "no more recorded messages", http.StatusGone)
		return
	}
	m := rs.rec.Messages[i]
	got, err := ParseEnvelope(body)
	want, err2 := ParseEnvelope([]byte(m.Request))
	rs.mu.Lock()
	switch {
	case err != nil:
		rs.diffs = append(rs.diffs, "unparsable request: "+err.Error())
	case err2 != nil:
		rs.diffs = append(rs.diffs, "unparsable recording: "+err2.Error())
	default:
		for _, d := range compareRequest(want, got) {
			rs.diffs = append(rs.diffs, rs.rec.Name+" #"+itoa(i)+" "+d)
		}
	}
	rs.mu.Unlock()
	if r.Header.Get("Content-Type") != "application/soap+xml;charset=UTF-8" {
		rs.mu.Lock()
		rs.diffs = append(rs.diffs, "Content-Type "+r.Header.Get("Content-Type"))
		rs.mu.Unlock()
	}
	switch {
	case m.HTTPError:
		hj, ok := w.(http.Hijacker)
		if ok {
			conn, _, _ := hj.Hijack()
			conn.Close()
		}
		return
	case m.AuthError:
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	resp := m.Response
	if got != nil {
		// Recorded responses relate to the recorded MessageID; a live
		// server relates to ours.
		if renv, err := ParseEnvelope([]byte(resp)); err == nil && renv.Header.RelatesTo != "" {
			resp = strings.Replace(resp, renv.Header.RelatesTo, got.Header.MessageID, 1)
		}
	}
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(m.Status())
	_, _ = io.WriteString(w, resp)
}

// drive makes the client call that corresponds to a recorded request,
// from the same inputs, and checks the parsed result against the recorded
// response.
func drive(t *testing.T, ctx context.Context, c *Client, m recordings.Exchange) {
	t.Helper()
	want, err := ParseEnvelope([]byte(m.Request))
	require.NoError(t, err)
	h := want.Header
	if h.MaxEnvelopeSize > 0 {
		c.SetMaxEnvelopeSize(h.MaxEnvelopeSize)
	}
	if h.OperationTimeout > 0 {
		ctx = WithOperationTimeout(ctx, h.OperationTimeout)
	}
	v, err := want.DecodeRequestBody()
	require.NoError(t, err)
	ref := ShellRef{ResourceURI: h.ResourceURI, ShellID: h.ShellID()}
	var resp *Envelope
	if m.Response != "" {
		resp, err = ParseEnvelope([]byte(m.Response))
		require.NoError(t, err)
	}
	var callErr error
	switch h.Action {
	case ActionCreate:
		s := v.(*Shell)
		var cr *CreateResponse
		if isPowerShellURI(h.ResourceURI) {
			p := PowerShellShell{ConfigurationName: h.ResourceURI, ShellID: s.ShellID, Name: s.Name,
				IdleTimeOut: s.IdleTimeOut, CreationXML: s.CreationXML}
			if o, ok := h.Option(OptionProtocolVersion); ok {
				p.ProtocolVersion = o.Value
			}
			_, p.NoProfile = h.Option(OptionNoProfile)
			cr, callErr = c.CreatePowerShell(ctx, p)
		} else {
			p := CmdShell{Name: s.Name, WorkingDirectory: s.WorkingDirectory, Environment: s.Environment,
				IdleTimeOut: s.IdleTimeOut, Lifetime: s.Lifetime}
			_, p.NoProfile = h.Option(OptionNoProfile)
			if o, ok := h.Option(OptionCodePage); ok {
				p.CodePage = atoi(o.Value)
			}
			cr, callErr = c.CreateCmd(ctx, p)
		}
		if callErr == nil {
			assert.NotEmpty(t, cr.ShellID())
			if cr.Shell != nil && cr.Shell.State != "" {
				assert.Equal(t, ShellStateConnected, cr.Shell.State)
			}
		}
	case ActionCommand:
		var id string
		id, callErr = c.Command(ctx, ref, v.(*CommandLine), h.Options...)
		if callErr == nil {
			assert.NotEmpty(t, id)
		}
	case ActionSend:
		callErr = c.Send(ctx, ref, v.([]Stream)...)
	case ActionReceive:
		var rr *ReceiveResponse
		rr, callErr = c.Receive(ctx, ref, v.(*Receive))
		if callErr == nil && resp != nil {
			if resp.IsFault() {
				assert.True(t, rr.TimedOut, "a TimedOut fault is 'nothing yet'")
			} else {
				exp, err := ParseReceiveResponse(resp.BodyElement())
				require.NoError(t, err)
				assert.Equal(t, len(exp.Streams), len(rr.Streams))
				assert.Equal(t, exp.CommandState, rr.CommandState)
			}
		}
	case ActionSignal:
		s := v.(*Signal)
		callErr = c.Signal(ctx, ref, s.CommandID, s.Code)
	case ActionDelete:
		callErr = c.Delete(ctx, ref)
	case ActionGet:
		if h.ResourceURI == ResourceConfig {
			var size int
			var from bool
			size, from, callErr = c.DiscoverMaxEnvelopeSize(ctx, MaxEnvelopeSizeV3)
			if callErr == nil && from {
				cfg, err := ParseConfig(resp.BodyElement())
				require.NoError(t, err)
				assert.Equal(t, cfg.MaxEnvelopeSizeKB*1024, size)
			}
		} else {
			var s *Shell
			s, callErr = c.GetShell(ctx, h.ShellID())
			if callErr == nil {
				assert.NotEmpty(t, s.State)
			}
		}
	case ActionEnumerate:
		e := v.(*Enumerate)
		if h.ResourceURI == ResourceCommand {
			var cmds []*CommandInfo
			cmds, callErr = c.EnumerateCommands(ctx, e.FilterSelectors[0].Value)
			for _, ci := range cmds {
				assert.NotEmpty(t, ci.CommandID)
			}
		} else {
			var shells []*Shell
			shells, callErr = c.EnumerateShells(ctx)
			for _, s := range shells {
				assert.NotEmpty(t, s.ShellID)
				assert.NotEmpty(t, s.State)
				assert.NotEmpty(t, s.ResourceURI)
			}
		}
	case ActionDisconnect:
		callErr = c.Disconnect(ctx, ref, v.(*Disconnect))
	case ActionReconnect:
		callErr = c.Reconnect(ctx, ref, v.(*Reconnect).CommandID)
	case ActionConnect:
		cn := v.(*Connect)
		if cn.CommandID != "" {
			callErr = c.ConnectCommand(ctx, ref, cn.CommandID)
		} else {
			pv := ""
			if o, ok := h.Option(OptionProtocolVersion); ok {
				pv = o.Value
			}
			var cr *ConnectResponse
			cr, callErr = c.Connect(ctx, ref, cn.ConnectXML, pv)
			if callErr == nil {
				assert.NotEmpty(t, cr.ConnectResponseXML)
				assert.Equal(t, "stdin pr", cr.InputStreams)
			}
		}
	default:
		t.Fatalf("unhandled action %s", h.Action)
	}
	switch {
	case m.HTTPError:
		require.Error(t, callErr)
	case m.AuthError:
		require.ErrorIs(t, callErr, ErrUnauthorized)
	case resp != nil && resp.IsFault():
		f, err := ParseFault(resp.BodyElement())
		require.NoError(t, err)
		if f.WSManCode() == CodeOperationTimedOut && h.Action == ActionReceive {
			require.NoError(t, callErr)
			return
		}
		var got *Fault
		require.ErrorAs(t, callErr, &got, "%s must fail with the recorded fault", h.Action)
		assert.Equal(t, f.WSManCode(), got.WSManCode())
		assert.Equal(t, m.Status(), got.HTTPStatus)
	case m.Status() >= 300:
		var he *HTTPError
		require.ErrorAs(t, callErr, &he)
	default:
		require.NoError(t, callErr, "%s", h.Action)
	}
}

func TestReplayRecordings(t *testing.T) {
	recs := allRecordings(t)
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			rs := newReplayServer(t, rec)
			first, err := ParseEnvelope([]byte(rec.Messages[0].Request))
			require.NoError(t, err)
			c, err := NewClient(rs.srv.URL, Config{Proxy: NoProxy, SessionID: first.Header.SessionID})
			require.NoError(t, err)
			defer c.CloseIdleConnections()
			ctx := context.Background()
			for i, m := range rec.Messages {
				// A new client (Connect from another session) uses the
				// recorded SessionId of that part of the exchange.
				if env, err := ParseEnvelope([]byte(m.Request)); err == nil && env.Header.SessionID != c.SessionID() {
					c.CloseIdleConnections()
					c, err = NewClient(rs.srv.URL, Config{Proxy: NoProxy, SessionID: env.Header.SessionID})
					require.NoError(t, err)
				}
				t.Logf("message %d", i)
				drive(t, ctx, c, m)
			}
			rs.mu.Lock()
			defer rs.mu.Unlock()
			assert.Equal(t, len(rec.Messages), rs.next, "every recorded request was sent")
			assert.Empty(t, rs.diffs)
		})
	}
}

var _ = errors.New
