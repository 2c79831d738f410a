package session_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
)

// A Credential never prints, logs or marshals its password, also inside
// ConnectionOptions.
func TestCredentialHidesPassword(t *testing.T) {
	c := session.ConnectionOptions{ComputerName: "server01",
		Credential: session.Credential{Username: `DOMAIN\admin`, Password: "s3cret-pw"}}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("opts", "credential", c.Credential)
	js, err := json.Marshal(c.Credential)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), buf.String(), string(js)} {
		assert.NotContains(t, s, "s3cret-pw")
		assert.Contains(t, s, "admin")
	}
}
