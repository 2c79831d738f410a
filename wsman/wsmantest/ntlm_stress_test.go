package wsmantest_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// Concurrent NTLM handshakes against the fake: a few clients, each used by
// several goroutines at once (as a caller running six commands at once
// does), each goroutine closing its client's idle connections after every
// request so that most requests authenticate a connection again (NEGOTIATE,
// CHALLENGE, AUTHENTICATE) while others are mid-handshake. Every request
// must succeed: the fake keeps the handshake state per TCP connection and
// keeps a connection open after its 401.
func TestConcurrentNTLMClients(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"alice": "alice-pw"}})
	defer srv.Close()
	const clients, goroutines, rounds = 4, 16, 4
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	cs := make([]*wsman.Client, clients)
	for i := range cs {
		c, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.NTLM{Username: "alice", Password: "alice-pw"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		cs[i] = c
	}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[g%clients]
			for range rounds {
				_, err := c.EnumerateShells(ctx)
				c.CloseIdleConnections()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 5 {
			t.Error(err)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d requests failed", n, goroutines*rounds)
	}
}

// Over https:// the NTLM client sends the request body with both handshake
// legs (no message encryption). The fake reads a refused request's body
// before answering 401, so that net/http keeps the connection open even for
// a body beyond the 256 KiB it would otherwise discard at most (NTLM
// authenticates the connection: closing it after the challenge would fail
// every such handshake).
func TestNTLMHandshakeWithLargeBodyOverHTTPS(t *testing.T) {
	srv := wsmantest.NewTLSServer(wsmantest.Options{Users: map[string]string{"alice": "alice-pw"}})
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.NTLM{Username: "alice", Password: "alice-pw"}, RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	pad := strings.Repeat("x", 400<<10)
	env := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body><!--` + pad + `--></s:Body></s:Envelope>`
	_, err = c.Post(ctx, []byte(env))
	var ae *auth.AuthError
	if errors.As(err, &ae) {
		t.Fatalf("the handshake failed: %v", err)
	}
	if err == nil {
		t.Fatal("a request without an action was accepted")
	}
}
