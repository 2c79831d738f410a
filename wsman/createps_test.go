package wsman

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A PowerShell shell's id must be its runspace pool id (a new client's
// Connect fails otherwise), which this package cannot read from the PSRP
// payload: CreatePowerShell rejects a missing or malformed ShellID at once,
// sending nothing, and sends a valid one upper-case.
func TestCreatePowerShellRequiresThePoolID(t *testing.T) {
	var requests atomic.Int32
	var sent string
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		requests.Add(1)
		sh, err := ParseShell(req.BodyElement())
		require.NoError(t, err)
		sent = sh.ShellID
		return 200, &Envelope{Header: Header{Action: ResponseAction(ActionCreate), RelatesTo: req.Header.MessageID},
			Body: []*Element{sh.Element()}}
	})
	c := newTestClient(t, srv.URL, Config{})
	ctx := context.Background()
	for _, id := range []string{"", "pool", "{b6631d8e-65a0-49f2-9053-a1b156c95777}", "urn:uuid:b6631d8e-65a0-49f2-9053-a1b156c95777"} {
		_, err := c.CreatePowerShell(ctx, PowerShellShell{ShellID: id, CreationXML: []byte("x")})
		require.Error(t, err, "ShellID %q", id)
		assert.True(t, errors.Is(err, ErrInvalidShellID), "ShellID %q: %v", id, err)
		assert.Contains(t, err.Error(), "runspace pool id")
	}
	assert.Zero(t, requests.Load(), "nothing is sent for an invalid ShellID")

	resp, err := c.CreatePowerShell(ctx, PowerShellShell{ShellID: "b6631d8e-65a0-49f2-9053-a1b156c95777", CreationXML: []byte("x")})
	require.NoError(t, err)
	assert.Equal(t, "B6631D8E-65A0-49F2-9053-A1B156C95777", sent)
	assert.Equal(t, "B6631D8E-65A0-49F2-9053-A1B156C95777", resp.ShellID())
}
