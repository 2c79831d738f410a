package wsman

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// StopPipeline sends exactly PowerShell's stop code, "crtl_c" misspelling
// and all (MS-PSRP 3.1.5.3.9), to the command: the Windows server plugin
// compares it ordinally and closes the command for any other code.
func TestStopPipelineSendsPowerShellsCode(t *testing.T) {
	var got *Signal
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		var err error
		got, err = ParseSignal(req.BodyElement())
		require.NoError(t, err)
		assert.Equal(t, ActionSignal, req.Header.Action)
		return 200, &Envelope{Header: Header{Action: ResponseAction(ActionSignal), RelatesTo: req.Header.MessageID},
			Body: []*Element{EmptyResponseElement(ActionSignal)}}
	})
	c := newTestClient(t, srv.URL, Config{})
	require.NoError(t, c.StopPipeline(context.Background(), testRef, "1076f64c-ee0d-4253-a092-e777479c6656"))
	require.NotNil(t, got)
	assert.Equal(t, "powershell/signal/crtl_c", got.Code)
	assert.Equal(t, "1076F64C-EE0D-4253-A092-E777479C6656", got.CommandID)
}
