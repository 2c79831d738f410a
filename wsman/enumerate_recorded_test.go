package wsman

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every field Windows returns for a shell in an EnumerateResponse is
// parsed, with its value, and written back by Shell.Element.
func TestRecordedEnumeratedShellFields(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_disconnect_runspaces")
	var items []*Element
	for _, m := range rec.Messages {
		env, err := ParseEnvelope([]byte(m.Response))
		if err != nil || env.Header.Action != ResponseAction(ActionEnumerate) {
			continue
		}
		res, err := ParseEnumerationResult(env.BodyElement())
		require.NoError(t, err)
		assert.True(t, res.EndOfSequence)
		items = append(items, res.Items...)
	}
	require.NotEmpty(t, items, "the recording has an EnumerateResponse with shells")
	var first *Shell
	for _, it := range items {
		s, err := ParseShell(it)
		require.NoError(t, err)
		if s.ShellID == "B6631D8E-65A0-49F2-9053-A1B156C95777" {
			first = s
		}
		// No recorded child element is dropped on the way through Shell.
		var recorded, written []string
		for _, c := range it.Children {
			recorded = append(recorded, c.Local+"="+strings.TrimSpace(c.Text))
		}
		for _, c := range s.Element().Children {
			written = append(written, c.Local+"="+strings.TrimSpace(c.Text))
		}
		assert.ElementsMatch(t, recorded, written)
	}
	require.NotNil(t, first)
	assert.Equal(t, &Shell{
		ShellID:         "B6631D8E-65A0-49F2-9053-A1B156C95777",
		ResourceURI:     "http://schemas.microsoft.com/powershell/Microsoft.PowerShell",
		Owner:           `WIN-NNMU24VVKJ0\vagrant`,
		ClientIP:        "10.0.2.2",
		ProcessID:       2792,
		IdleTimeOut:     2 * time.Hour,
		InputStreams:    "stdin pr",
		OutputStreams:   "stdout",
		MaxIdleTimeOut:  2147483647 * time.Millisecond,
		Locale:          "en-US",
		DataLocale:      "en-US",
		CompressionMode: "NoCompression",
		ProfileLoaded:   "Yes",
		Encoding:        "UTF8",
		BufferMode:      BufferModeBlock,
		State:           ShellStateDisconnected,
		ShellRunTime:    9 * time.Second,
		MemoryUsed:      "46MB",
	}, first)
	assert.True(t, first.IsPowerShell())
}

// Windows leaves w:Items out of the EnumerateResponse for a shell without
// commands (test_psrp_disconnect_runspaces, exchanges 12 and 13); other
// servers send an empty w:Items. EnumerateCommands returns no commands and
// no error for both, and EnumerateResponseElement writes what Windows does.
func TestRecordedEmptyCommandEnumerate(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_disconnect_runspaces")
	for _, i := range []int{12, 13} {
		recorded, err := ParseEnvelope([]byte(rec.Messages[i].Response))
		require.NoError(t, err)
		require.Equal(t, ResponseAction(ActionEnumerate), recorded.Header.Action, "exchange %d", i)
		body := recorded.BodyElement()
		require.Nil(t, body.Child(NSWSMan, "Items"), "exchange %d: the recorded response has no Items", i)

		res, err := ParseEnumerationResult(body)
		require.NoError(t, err)
		assert.Empty(t, res.Items)
		assert.True(t, res.EndOfSequence)
		assert.Equal(t, body.String(), res.EnumerateResponseElement().String(),
			"exchange %d: EnumerateResponseElement writes the recorded body", i)

		withItems := body.Clone()
		withItems.Children = append([]*Element{withItems.Children[0], NewElement(NSWSMan, "Items")}, withItems.Children[1:]...)
		for name, b := range map[string]*Element{"recorded (no Items)": body, "empty Items": withItems} {
			srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
				resp := &Envelope{Header: Header{Action: ResponseAction(ActionEnumerate), RelatesTo: req.Header.MessageID,
					MessageID: "uuid:" + strings.Repeat("0", 8)}, Body: []*Element{b}}
				return 200, resp
			})
			c := newTestClient(t, srv.URL, Config{})
			cmds, err := c.EnumerateCommands(context.Background(), "B6631D8E-65A0-49F2-9053-A1B156C95777")
			require.NoError(t, err, name)
			assert.Empty(t, cmds, name)
		}
	}
}
