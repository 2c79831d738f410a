package wsman

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
)

// authRecorder is another host: it records every Authorization header it
// receives and refuses every request.
type authRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newAuthRecorder(t *testing.T) *authRecorder {
	r := &authRecorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h := req.Header.Get("Authorization"); h != "" {
			r.mu.Lock()
			r.seen = append(r.seen, h)
			r.mu.Unlock()
		}
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *authRecorder) headers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// A hostile endpoint redirects to another host (another port on loopback
// is another origin): the credentials (a Basic header, an NTLM NEGOTIATE
// starting a login whose session would then carry sealed data) never reach
// it unless Config.AllowCrossHostRedirection opts in.
func TestRedirectCredentialsStayOnHost(t *testing.T) {
	for _, scheme := range []string{"Basic", "NTLM"} {
		for _, optIn := range []bool{false, true} {
			name := scheme + "/default"
			if optIn {
				name = scheme + "/opt-in"
			}
			t.Run(name, func(t *testing.T) {
				other := newAuthRecorder(t)
				redirect := func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/wsman", http.StatusTemporaryRedirect)
				}
				var endpoint string
				var a auth.Authenticator
				switch scheme {
				case "Basic":
					srv := httptest.NewServer(http.HandlerFunc(redirect))
					t.Cleanup(srv.Close)
					endpoint = srv.URL
					a = &auth.Basic{Username: testNTLMUser, Password: testNTLMPassword}
				case "NTLM":
					endpoint = ntlmHostileServer(t, redirect).URL
					a = &auth.NTLM{Username: testNTLMUser, Password: testNTLMPassword}
				}
				c := newTestClient(t, endpoint, Config{Auth: a, AllowUnencrypted: scheme == "Basic",
					AllowRedirection: true, AllowCrossHostRedirection: optIn})
				err := c.Delete(context.Background(), testRef)
				require.Error(t, err, "the other host refuses every request")
				if !optIn {
					assert.Empty(t, other.headers(), "credentials reached the other host")
					require.ErrorIs(t, err, ErrCrossHostRedirect)
					return
				}
				got := other.headers()
				require.NotEmpty(t, got, "opted in: the credentials follow the redirect")
				switch scheme {
				case "Basic":
					assert.True(t, strings.HasPrefix(got[0], "Basic "), got[0])
				case "NTLM":
					assert.True(t, strings.HasPrefix(got[0], "Negotiate TlRMTVNTUAAB"), "an NTLM NEGOTIATE: %s", got[0])
				}
			})
		}
	}
}

// A redirect on the endpoint's own origin (same scheme, host and port) is
// followed with the credentials.
func TestRedirectSameOriginKeepsCredentials(t *testing.T) {
	var mu sync.Mutex
	var movedAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/moved" {
			http.Redirect(w, r, "http://"+r.Host+"/moved", http.StatusTemporaryRedirect)
			return
		}
		mu.Lock()
		movedAuth = r.Header.Get("Authorization")
		mu.Unlock()
		if _, _, ok := r.BasicAuth(); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		req, err := ParseEnvelope(b)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Config{Auth: &auth.Basic{Username: "u", Password: "p"},
		AllowUnencrypted: true, AllowRedirection: true})
	require.NoError(t, c.Delete(context.Background(), testRef))
	mu.Lock()
	assert.True(t, strings.HasPrefix(movedAuth, "Basic "))
	mu.Unlock()
}
