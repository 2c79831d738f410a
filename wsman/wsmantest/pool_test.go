package wsmantest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// poolEvents receives pool data until an event of the wanted kind arrives.
func poolEvents[T psrp.Event](t *testing.T, c *psClient) T {
	t.Helper()
	ctx := testCtx(t)
	for i := 0; i < 20; i++ {
		for _, e := range c.receivePool(ctx) {
			if x, ok := e.(T); ok {
				return x
			}
		}
	}
	var zero T
	t.Fatalf("no %T received", zero)
	return zero
}

func TestPoolOperations(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "", 0)
	defer c.close()
	ctx := testCtx(t)

	// The session key exchange: PUBLIC_KEY → ENCRYPTED_SESSION_KEY.
	require.NoError(t, c.pool.RequestSessionKey(nil))
	c.flush(ctx, psrp.PoolTarget, "")
	sk := poolEvents[psrp.SessionKeyReceived](t, c)
	require.NotNil(t, sk.Cipher)
	secret := sk.Cipher.Encrypt("p@ss")
	plain, err := sk.Cipher.Decrypt(secret)
	require.NoError(t, err)
	assert.Equal(t, "p@ss", plain)
	// The server holds the same key: a handler decrypts a SecureString
	// argument.
	srv.HandleScript("reveal", wsmantest.HandlerFunc(func(_ context.Context, inv *wsmantest.Invocation) error {
		ss, ok := inv.Pipeline[0].Parameters[0].Value.(clixml.SecureString)
		if !ok {
			return errors.New("not a SecureString")
		}
		text, err := inv.DecryptSecureString(ss)
		if err != nil {
			return err
		}
		return inv.WriteOutput(clixml.String(text))
	}))
	pl, err := c.pool.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true, PowerShell: psrp.PowerShell{
		Cmds: []psrp.Command{{Cmd: "reveal", IsScript: true, Args: []psrp.CommandParameter{{Name: "Secret", Value: sk.Cipher.EncryptValue("hunter2")}}}}}})
	require.NoError(t, err)
	res := c.invoke(ctx, pl)
	assert.Equal(t, []clixml.Value{clixml.String("hunter2")}, res.output)

	// SET_MAX_RUNSPACES and GET_AVAILABLE_RUNSPACES.
	callID, err := c.pool.SetMaxRunspaces(4)
	require.NoError(t, err)
	c.flush(ctx, psrp.PoolTarget, "")
	ra := poolEvents[psrp.RunspaceAvailabilityReceived](t, c)
	assert.Equal(t, callID, ra.Data.CallID)
	assert.True(t, ra.Data.Success)
	callID, err = c.pool.GetAvailableRunspaces()
	require.NoError(t, err)
	c.flush(ctx, psrp.PoolTarget, "")
	ra = poolEvents[psrp.RunspaceAvailabilityReceived](t, c)
	assert.Equal(t, callID, ra.Data.CallID)
	assert.Equal(t, int64(4), ra.Data.Count)
}

func TestApplicationPrivateDataHasPSVersionTable(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	g := &gate{release: make(chan int)}
	defer close(g.release)
	srv.HandleScript("numbers", g.handler())
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wc, "", 0)
	// With a pipeline in the pool, a new client's first pool Receive gets
	// APPLICATION_PRIVATE_DATA (without, RUNSPACEPOOL_STATE).
	a.start(testCtx(t), "numbers", false)
	a.disconnect(0, "")
	b, err := connectNew(t, newWSManClient(t, srv, "alice", "alice-pw", ""), a.ref.ShellID)
	require.NoError(t, err)
	apd := poolEvents[psrp.ApplicationPrivateDataReceived](t, b)
	table := apd.Data.PSVersionTable()
	require.NotNil(t, table)
	found := map[string]clixml.Value{}
	for _, e := range table.Entries {
		if k, ok := e.Key.(clixml.String); ok {
			found[string(k)] = e.Value
		}
	}
	assert.Equal(t, clixml.Version("5.1.17763.1"), found["PSVersion"])
	assert.Equal(t, clixml.Version("2.3"), found["PSRemotingProtocolVersion"])
	assert.Equal(t, clixml.String("Desktop"), found["PSEdition"])
	b.close()
}
