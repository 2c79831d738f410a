package wsman

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
)

// The caller's MaxResponseBytes bounds a sealed response too: a hostile
// server that authenticates over NTLM and then answers with a 60 MiB body
// of garbage, announced or chunked, costs the client about the limit, not
// the body, and the request fails with the one ErrResponseTooLarge.
func TestSealedResponseHonoursMaxResponseBytes(t *testing.T) {
	const limit, body = 1 * mib, 60 * mib
	for _, withLength := range []bool{true, false} {
		name := "chunked"
		if withLength {
			name = "content-length"
		}
		t.Run(name, func(t *testing.T) {
			srv := ntlmHostileServer(t, func(w http.ResponseWriter, _ *http.Request) {
				writeGarbage(w, body, withLength)
			})
			c := newTestClient(t, srv.URL, Config{MaxResponseBytes: limit,
				Auth: &auth.NTLM{Username: testNTLMUser, Password: testNTLMPassword}})
			m := newHeapMeter()
			err := c.Delete(context.Background(), testRef)
			_, allocated := m.delta()
			t.Logf("%s: %d MiB sealed body, limit %d MiB: allocated %.1f MiB during the request",
				name, body/mib, limit/mib, float64(allocated)/mib)
			assert.Less(t, allocated, uint64(16*mib), "the client buffered far more than its limit")
			require.ErrorIs(t, err, ErrResponseTooLarge)
			require.ErrorIs(t, err, auth.ErrResponseTooLarge, "one sentinel at every layer")
		})
	}
}

// The limit also holds on the plaintext path, with the same sentinel.
func TestPlainResponseTooLargeIsTheAuthSentinel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 64<<10)))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Config{MaxResponseBytes: 32 << 10})
	err := c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, auth.ErrResponseTooLarge)
}

// A 401 answered to the client and an authenticator's own refusal are one
// error type: a single errors.As finds both.
func TestOneAuthErrorType(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)

	// No authentication configured: the client's own 401.
	c := newTestClient(t, srv.URL, Config{})
	err := c.Delete(context.Background(), testRef)
	var ae *auth.AuthError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.Equal(t, []string{"Negotiate"}, ae.Offered)
	assert.Empty(t, ae.Scheme)
	require.ErrorIs(t, err, ErrUnauthorized)

	// Basic, which turns the 401 into its own error.
	c = newTestClient(t, srv.URL, Config{AllowUnencrypted: true, Auth: &auth.Basic{Username: "u", Password: "p"}})
	err = c.Delete(context.Background(), testRef)
	ae = nil
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Basic", ae.Scheme)
	require.ErrorIs(t, err, ErrUnauthorized)
}
