package wsmantest_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestEmptyCommandEnumerateAsRecorded replays the command Enumerate of a
// shell without commands (test_psrp_disconnect_runspaces, exchanges 12 and
// 13): the fake server's response body has exactly the recorded shapes,
// without w:Items, and the client reads it as no commands.
func TestEmptyCommandEnumerateAsRecorded(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_disconnect_runspaces")
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	wc := newWSManClient(t, srv, "", "", "")
	for _, i := range []int{12, 13} {
		ex := rec.Messages[i]
		m := reFilterShell.FindStringSubmatch(ex.Request)
		require.NotNil(t, m, "exchange %d filters on a ShellId", i)
		c := openPool(t, wc, "", 0)
		req := strings.ReplaceAll(ex.Request, m[1], c.ref.ShellID)
		resp, err := srv.Client().Post(srv.URL, "application/soap+xml;charset=UTF-8", bytes.NewReader([]byte(req)))
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "exchange %d: %s", i, got)
		_, recordedBody, _ := envelopeShapes(t, []byte(ex.Response))
		_, fakeBody, _ := envelopeShapes(t, got)
		assert.Equal(t, recordedBody, fakeBody, "exchange %d: EnumerateResponse body shapes", i)
		assert.NotContains(t, string(got), "Items")

		cmds, err := wc.EnumerateCommands(testCtx(t), c.ref.ShellID)
		require.NoError(t, err)
		assert.Empty(t, cmds)
	}
	// With a command the items are there.
	c := openPool(t, wc, "", 0)
	pl := c.start(testCtx(t), "1", false)
	cmds, err := wc.EnumerateCommands(testCtx(t), c.ref.ShellID)
	require.NoError(t, err)
	require.Len(t, cmds, 1)
	assert.Equal(t, upperID(pl), cmds[0].CommandID)
}

var reFilterShell = regexp.MustCompile(`<wsman:Selector Name="ShellId">([0-9A-Fa-f-]{36})<`)
