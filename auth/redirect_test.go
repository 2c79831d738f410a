package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://h/wsman", "https://h:443/other", true},
		{"http://H:5985/wsman", "http://h:5985/x", true},
		{"http://h/wsman", "http://h:80/", true},
		{"http://h:5985/wsman", "http://h:5986/wsman", false},
		{"http://h:5985/wsman", "https://h:5985/wsman", false},
		{"https://h/wsman", "https://evil/wsman", false},
		{"https://h/wsman", "https://h.evil/wsman", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		assert.Equal(t, tc.same, SameOrigin(a, b), "%s vs %s", tc.a, tc.b)
	}
}

// A redirect that net/http follows (an http.Client with its default
// redirect policy over an authenticator) gets no credentials at another
// host: net/http drops Authorization there, and the authenticator must
// not put it back, nor start an NTLM login, unless the caller opted in.
func TestNetHTTPRedirectToAnotherHostGetsNoCredentials(t *testing.T) {
	for _, scheme := range []string{"Basic", "NTLM"} {
		for _, optIn := range []bool{false, true} {
			name := scheme + "/default"
			if optIn {
				name = scheme + "/opt-in"
			}
			t.Run(name, func(t *testing.T) {
				var mu sync.Mutex
				var seen []string
				other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if h := r.Header.Get("Authorization"); h != "" {
						mu.Lock()
						seen = append(seen, h)
						mu.Unlock()
					}
					w.Header().Set("WWW-Authenticate", "Negotiate")
					w.WriteHeader(http.StatusUnauthorized)
				}))
				t.Cleanup(other.Close)
				redirect := func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/wsman", http.StatusTemporaryRedirect)
				}
				var endpoint string
				var a Authenticator
				if scheme == "Basic" {
					s := httptest.NewServer(http.HandlerFunc(redirect))
					t.Cleanup(s.Close)
					endpoint = s.URL
					a = &Basic{Username: "u", Password: "p"}
				} else {
					endpoint = hostileServer(t, func(w http.ResponseWriter) {
						w.Header().Set("Location", other.URL+"/wsman")
						w.WriteHeader(http.StatusTemporaryRedirect)
					})
					a = &NTLM{Username: "u", Password: "p"}
				}
				rt, err := a.Wrap(http.DefaultTransport, WrapOptions{AllowUnencrypted: true, AllowCrossHostRedirect: optIn})
				require.NoError(t, err)
				c := &http.Client{Transport: rt}
				t.Cleanup(c.CloseIdleConnections)
				_, _, err = postSOAP(context.Background(), c, endpoint, testSOAP)
				mu.Lock()
				got := append([]string(nil), seen...)
				mu.Unlock()
				if !optIn {
					assert.Empty(t, got, "credentials reached the other host")
					require.ErrorIs(t, err, ErrCrossHostRedirect)
					assert.NotErrorIs(t, err, ErrUnauthorized, "nothing was refused by a server")
					return
				}
				require.NotEmpty(t, got, "opted in: the credentials follow")
				want := map[string]string{"Basic": "Basic ", "NTLM": "Negotiate TlRMTVNTUAAB"}[scheme]
				assert.True(t, strings.HasPrefix(got[0], want), got[0])
			})
		}
	}
}

// The same for Kerberos with message encryption: after a genuine
// authentication the server redirects to another host, which gets no
// Kerberos token unless the caller opted in.
func TestKerberosNetHTTPRedirectToAnotherHostGetsNoToken(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	for _, optIn := range []bool{false, true} {
		var mu sync.Mutex
		var seen []string
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := r.Header.Get("Authorization"); h != "" {
				mu.Lock()
				seen = append(seen, h)
				mu.Unlock()
			}
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
		}))
		t.Cleanup(other.Close)
		srv := newKRBEncServer(t, testServiceKeytab(t, k))
		srv.respond = func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/wsman", http.StatusTemporaryRedirect)
		}
		a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
		require.NoError(t, err)
		defer a.Close()
		c := wrapClient(t, srv.Server, a, WrapOptions{AllowCrossHostRedirect: optIn})
		_, err = post(context.Background(), c, srv.URL, "<a/>")
		require.Error(t, err)
		mu.Lock()
		got := append([]string(nil), seen...)
		mu.Unlock()
		if !optIn {
			assert.Empty(t, got, "a Kerberos token reached the other host")
			require.ErrorIs(t, err, ErrCrossHostRedirect)
			continue
		}
		require.NotEmpty(t, got, "opted in: the token follows")
		assert.True(t, strings.HasPrefix(got[0], "Negotiate "), got[0])
	}
}
