package wsmantest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// receiveAll receives a cmd command's stdout until Done.
func receiveAll(t *testing.T, wc *wsman.Client, ref wsman.ShellRef, id string) (string, int64) {
	t.Helper()
	ctx := testCtx(t)
	var out strings.Builder
	for {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: id, DesiredStream: "stdout stderr"})
		require.NoError(t, err)
		if rr.TimedOut {
			continue
		}
		out.Write(rr.StreamData("stdout", id))
		if rr.CommandState.Done() {
			return out.String(), rr.CommandState.ExitCode
		}
	}
}

func TestCmdShellDisconnectedBuffering(t *testing.T) {
	for _, mode := range []string{"Block", "Drop"} {
		t.Run(mode, func(t *testing.T) {
			srv := newPSServer(t, wsmantest.Options{OutputBufferSize: 1000})
			release := make(chan struct{})
			srv.HandleFunc("lines", func(ctx context.Context, inv *wsmantest.Invocation) error {
				<-release
				for i := 0; i < 300; i++ {
					if _, err := fmt.Fprintf(inv.Stdout(), "line %03d\n", i); err != nil {
						return err
					}
				}
				inv.Exit(7)
				return nil
			})
			ctx := testCtx(t)
			wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
			created, err := wcA.CreateCmd(ctx, wsman.CmdShell{})
			require.NoError(t, err)
			ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: created.ShellID()}
			id, err := wcA.Command(ctx, ref, &wsman.CommandLine{Command: "lines"})
			require.NoError(t, err)
			require.NoError(t, wcA.Disconnect(ctx, ref, &wsman.Disconnect{BufferMode: mode}))
			close(release)
			if mode == "Block" {
				waitFor(t, "the command to block", func() bool {
					st, _ := srv.Shell(ref.ShellID)
					return st.Commands[0].Blocked
				})
			} else {
				waitFor(t, "the command to finish", func() bool {
					st, _ := srv.Shell(ref.ShellID)
					return !st.Commands[0].Running
				})
			}
			wcB := newWSManClient(t, srv, "alice", "alice-pw", "")
			_, err = wcB.Connect(ctx, ref, nil, "")
			require.NoError(t, err)
			require.NoError(t, wcB.ConnectCommand(ctx, ref, id))
			out, code := receiveAll(t, wcB, ref, id)
			assert.Equal(t, int64(7), code)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if mode == "Block" {
				assert.Len(t, lines, 300)
				assert.Equal(t, "line 000", lines[0])
			} else {
				assert.Less(t, len(lines), 300)
				assert.Equal(t, fmt.Sprintf("line %03d", 300-len(lines)), lines[0], "the oldest lines were dropped")
			}
			assert.Equal(t, "line 299", lines[len(lines)-1])
		})
	}
}
