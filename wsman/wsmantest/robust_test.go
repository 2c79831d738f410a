package wsmantest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestRetransmissionAfterLostResponse drops the connection after the
// server handled a Receive (its output is taken, the response lost); the
// client retransmits with the same OperationID and SequenceId and gets the
// same response, so no output is lost or duplicated.
func TestRetransmissionAfterLostResponse(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("three", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String("a"), clixml.String("b"), clixml.String("c"))
	}))
	var seq atomic.Int64
	var repeat atomic.Bool
	const opID = "uuid:0E2A8B7C-1111-4222-8333-944455556666"
	wc, err := wsman.NewClient(srv.URL, wsman.Config{
		Auth: &auth.Basic{Username: "alice", Password: "alice-pw"}, AllowUnencrypted: true, OperationTimeout: 5 * time.Second,
		RequestHook: func(_ context.Context, h *wsman.Header) {
			h.OperationID = opID
			if !repeat.Load() {
				seq.Add(1)
			}
			h.SequenceID = itoa(seq.Load())
		},
	})
	require.NoError(t, err)
	c := openPool(t, wc, "", 0)
	ctx := testCtx(t)
	pl := c.start(ctx, "three", false)
	waitFor(t, "output buffered", func() bool {
		st, _ := srv.Shell(c.ref.ShellID)
		return len(st.Commands) == 1 && !st.Commands[0].Running
	})

	srv.Inject(wsmantest.Injection{Action: "Receive", CommandID: upperID(pl), Times: 1, DropAfter: true})
	_, err = wc.Receive(ctx, c.ref, &wsman.Receive{CommandID: upperID(pl)})
	require.Error(t, err, "the response was lost")
	st, _ := srv.Shell(c.ref.ShellID)
	assert.Zero(t, st.Commands[0].Buffered, "the lost response took the output")

	// Retransmission: same OperationID and SequenceId.
	repeat.Store(true)
	rr, err := wc.Receive(ctx, c.ref, &wsman.Receive{CommandID: upperID(pl)})
	require.NoError(t, err)
	res := &result{records: map[psrp.MessageType][]string{}}
	ev, err := c.pool.ReceiveData(rr.StreamData("stdout", upperID(pl)))
	require.NoError(t, err)
	c.apply(ctx, res, ev, pl, nil)
	assert.Equal(t, []clixml.Value{clixml.String("a"), clixml.String("b"), clixml.String("c")}, res.output)
	assert.True(t, rr.CommandState.Done())
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)

	var kinds []string
	for _, r := range srv.Requests() {
		if r.Action == "Receive" && r.CommandID == upperID(pl) {
			kinds = append(kinds, r.Injected)
		}
	}
	assert.Equal(t, []string{"drop-after", "retransmission"}, kinds)
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
