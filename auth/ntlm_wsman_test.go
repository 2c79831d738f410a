package auth_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// Through the wsman client against the fake WinRM server: a long-polling
// Receive on one command does not hold up the Create, Command and Receive
// requests of another on the same client (NTLM with message encryption over
// http://, and NTLM with channel binding over https://).
func TestWSManNTLMLongPollAndCommandsConcurrently(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http-sealed", true: "https"}[useTLS], func(t *testing.T) {
			opts := wsmantest.Options{Users: map[string]string{"alice": "alice-pw"}, AuthMethods: []wsmantest.AuthMethod{wsmantest.AuthNTLM}}
			var srv *wsmantest.Server
			cfg := wsman.Config{OperationTimeout: time.Minute, Auth: &auth.NTLM{Username: "alice", Password: "alice-pw"}}
			if useTLS {
				srv = wsmantest.NewTLSServer(opts)
				cfg.RootCAs = x509.NewCertPool()
				cfg.RootCAs.AddCert(srv.Certificate())
			} else {
				srv = wsmantest.NewServer(opts)
			}
			t.Cleanup(srv.Close)
			release := make(chan struct{})
			srv.HandleFunc("wait", func(ctx context.Context, inv *wsmantest.Invocation) error {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				_, err := fmt.Fprint(inv.Stdout(), "waited")
				inv.Exit(0)
				return err
			})
			srv.HandleFunc("hello", func(ctx context.Context, inv *wsmantest.Invocation) error {
				_, err := fmt.Fprint(inv.Stdout(), "hello")
				inv.Exit(0)
				return err
			})
			wc, err := wsman.NewClient(srv.URL, cfg)
			require.NoError(t, err)
			t.Cleanup(wc.CloseIdleConnections)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			created, err := wc.CreateCmd(ctx, wsman.CmdShell{})
			require.NoError(t, err)
			ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: created.ShellID()}
			waitID, err := wc.Command(ctx, ref, &wsman.CommandLine{Command: "wait"})
			require.NoError(t, err)
			type result struct {
				out string
				err error
			}
			polled := make(chan result, 1)
			go func() {
				var out strings.Builder
				for {
					rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: waitID, DesiredStream: "stdout"})
					if err != nil {
						polled <- result{err: err}
						return
					}
					out.Write(rr.StreamData("stdout", waitID))
					if rr.CommandState.Done() {
						polled <- result{out: out.String()}
						return
					}
				}
			}()

			// While that Receive is held by the server: another shell and
			// command, start to finish, well within the long poll's
			// OperationTimeout (a guard against head-of-line blocking).
			octx, ocancel := context.WithTimeout(ctx, 30*time.Second)
			defer ocancel()
			for i := range 2 {
				other, err := wc.CreateCmd(octx, wsman.CmdShell{})
				require.NoError(t, err)
				oref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: other.ShellID()}
				id, err := wc.Command(octx, oref, &wsman.CommandLine{Command: "hello"})
				require.NoError(t, err)
				var out strings.Builder
				for {
					rr, err := wc.Receive(octx, oref, &wsman.Receive{CommandID: id, DesiredStream: "stdout"})
					require.NoError(t, err, "round %d", i)
					out.Write(rr.StreamData("stdout", id))
					if rr.CommandState.Done() {
						break
					}
				}
				assert.Equal(t, "hello", out.String())
				require.NoError(t, wc.Delete(octx, oref))
			}
			select {
			case r := <-polled:
				t.Fatalf("the long poll ended early: %+v", r)
			default:
			}
			close(release)
			r := <-polled
			require.NoError(t, r.err)
			assert.Equal(t, "waited", r.out)
			require.NoError(t, wc.Delete(ctx, ref))
		})
	}
}
