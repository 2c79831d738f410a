package auth

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type idleCounter struct {
	http.RoundTripper
	n atomic.Int32
}

func (c *idleCounter) CloseIdleConnections() { c.n.Add(1) }

// http.Client.CloseIdleConnections reaches the transport beneath the Basic
// and Certificate authenticators.
func TestCloseIdleConnectionsPassesThrough(t *testing.T) {
	tc := newTestCA(t, "CA").issue(t, "carol")
	cert, err := NewCertificate(tc)
	require.NoError(t, err)
	for _, a := range []Authenticator{&Basic{Username: "u", Password: "p"}, cert} {
		next := &idleCounter{RoundTripper: http.DefaultTransport}
		rt, err := a.Wrap(next, WrapOptions{})
		require.NoError(t, err)
		(&http.Client{Transport: rt}).CloseIdleConnections()
		assert.EqualValues(t, 1, next.n.Load(), a.Scheme())
	}
}
