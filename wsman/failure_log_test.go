package wsman

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/auth/ntlm"
)

// captureHandler is a slog.Handler keeping every record as text (message,
// level and attributes).
type captureHandler struct {
	mu      sync.Mutex
	attrs   []slog.Attr
	records []capturedRecord
}

type capturedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
	text  string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	add := func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	rec.text = fmt.Sprint(r.Message, " ", rec.attrs)
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

func (h *captureHandler) all() []capturedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]capturedRecord(nil), h.records...)
}

// find returns the first record with message msg.
func (h *captureHandler) find(msg string) (capturedRecord, bool) {
	for _, r := range h.all() {
		if r.msg == msg {
			return r, true
		}
	}
	return capturedRecord{}, false
}

// A failed request and a failed authentication each leave a debug line
// with the action and the error, and no line holds the password, the
// Basic header or the NT hash.
func TestFailuresAreLoggedWithoutCredentials(t *testing.T) {
	refuse := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, tc := range []struct {
		name       string
		endpoint   func(t *testing.T) string
		auth       auth.Authenticator
		authScheme string // the authenticator's failure line, if any
	}{
		{"Basic refused", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(refuse))
			t.Cleanup(s.Close)
			return s.URL
		}, &auth.Basic{Username: testNTLMUser, Password: testNTLMPassword}, "Basic"},
		{"NTLM wrong password", func(t *testing.T) string {
			ns := auth.NewNTLMServer(auth.NTLMServerConfig{Users: map[string]string{testNTLMUser: "another password"}})
			s := httptest.NewServer(ns.Handler(http.NotFoundHandler()))
			t.Cleanup(s.Close)
			return s.URL
		}, &auth.NTLM{Username: testNTLMUser, Password: testNTLMPassword}, "NTLM"},
		{"connection refused", func(*testing.T) string { return closedURL },
			&auth.NTLM{Username: testNTLMUser, Password: testNTLMPassword}, "NTLM"},
		{"HTTP 500", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			}))
			t.Cleanup(s.Close)
			return s.URL
		}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &captureHandler{}
			c := newTestClient(t, tc.endpoint(t), Config{Auth: tc.auth, AllowUnencrypted: true, Logger: slog.New(h)})
			err := c.Delete(context.Background(), testRef)
			require.Error(t, err)

			rec, ok := h.find("wsman request failed")
			require.True(t, ok, "no debug line for the failed request; got %v", h.all())
			assert.Equal(t, slog.LevelDebug, rec.level)
			assert.Equal(t, "Delete", rec.attrs["action"])
			assert.Equal(t, err.Error(), rec.attrs["error"])
			if tc.authScheme != "" {
				rec, ok := h.find("auth: request failed")
				require.True(t, ok, "no debug line from the authenticator; got %v", h.all())
				assert.Equal(t, slog.LevelDebug, rec.level)
				assert.Equal(t, tc.authScheme, rec.attrs["scheme"])
				assert.NotEmpty(t, rec.attrs["error"])
			}

			nt := ntlm.NTHash(testNTLMPassword)
			secrets := []string{
				testNTLMPassword,
				base64.StdEncoding.EncodeToString([]byte(testNTLMUser + ":" + testNTLMPassword)),
				hex.EncodeToString(nt[:]),
				strings.ToUpper(hex.EncodeToString(nt[:])),
				hex.EncodeToString(ntlm.NTOWFv2(testNTLMPassword, testNTLMUser, "")),
			}
			for _, r := range h.all() {
				for _, s := range secrets {
					assert.NotContains(t, r.text, s, "a credential in the log")
				}
			}
		})
	}
}

// The w:TimedOut that ends a Receive long poll is "nothing yet", not a
// failure: it gets the request's debug line but no failure line.
func TestReceiveTimedOutIsNotLoggedAsFailure(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		return 500, NewFaultResponse(req, TimedOutFault("m"))
	})
	h := &captureHandler{}
	c := newTestClient(t, srv.URL, Config{Logger: slog.New(h)})
	rr, err := c.Receive(context.Background(), testRef, &Receive{CommandID: "abc"})
	require.NoError(t, err)
	require.True(t, rr.TimedOut)
	_, ok := h.find("wsman request")
	assert.True(t, ok)
	_, ok = h.find("wsman request failed")
	assert.False(t, ok, "a long poll that timed out logged as a failure")
}
