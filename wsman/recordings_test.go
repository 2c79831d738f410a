package wsman

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseResponseBody decodes a response body by its action, the way the
// client does.
func parseResponseBody(t *testing.T, env *Envelope) string {
	t.Helper()
	a := env.Header.Action
	b := env.BodyElement()
	var err error
	switch a {
	case ResponseAction(ActionCreate):
		_, err = ParseCreateResponse(env.Body)
	case ResponseAction(ActionCommand):
		_, err = ParseCommandResponse(b)
	case ResponseAction(ActionReceive):
		_, err = ParseReceiveResponse(b)
	case ResponseAction(ActionConnect):
		_, err = ParseConnectResponse(b)
	case ResponseAction(ActionEnumerate), ResponseAction(ActionPull):
		var r *EnumerationResult
		r, err = ParseEnumerationResult(b)
		if err == nil {
			for _, it := range r.Items {
				switch {
				case it.Is(NSShell, "Shell"):
					_, err = ParseShell(it)
				case it.Is(NSShell, "Command"):
					_, err = ParseCommandInfo(it)
				}
				require.NoError(t, err)
			}
		}
	case ResponseAction(ActionGet):
		if b.Is(NSConfig, "Config") {
			_, err = ParseConfig(b)
		} else {
			_, err = ParseShell(b)
		}
	case ActionFault, ActionAddressingFault:
		var f *Fault
		f, err = ParseFault(b)
		if err == nil {
			assert.NotEmpty(t, f.Subcode)
			assert.NotZero(t, f.WSManCode(), f.Error())
		}
	}
	require.NoError(t, err, a)
	return a
}

func TestRecordingsParse(t *testing.T) {
	recs := allRecordings(t)
	actions := map[string]int{}
	mismatched := 0
	for _, rec := range recs {
		for i, m := range rec.Messages {
			req, err := ParseEnvelope([]byte(m.Request))
			require.NoError(t, err, "%s #%d request", rec.Name, i)
			assert.NotEmpty(t, req.Header.MessageID)
			assert.NotEmpty(t, req.Header.SessionID, "%s #%d", rec.Name, i)
			_, err = req.DecodeRequestBody()
			require.NoError(t, err, "%s #%d request body", rec.Name, i)

			// Re-marshal and re-parse: nothing is lost.
			again, err := ParseEnvelope(req.Marshal())
			require.NoError(t, err)
			assert.Equal(t, req.Header.Action, again.Header.Action)
			assert.Equal(t, req.Header.Selectors, again.Header.Selectors)
			assert.Equal(t, req.Header.Options, again.Header.Options)
			assert.Equal(t, req.Header.OperationTimeout, again.Header.OperationTimeout)
			if len(req.Body) > 0 {
				assert.Equal(t, req.Body[0].String(), again.Body[0].String())
			}

			if m.Response == "" {
				continue
			}
			resp, err := ParseEnvelope([]byte(m.Response))
			require.NoError(t, err, "%s #%d response", rec.Name, i)
			if req.Header.MessageID != resp.Header.RelatesTo {
				// A few pypsrp recordings re-use responses (hand-edited).
				mismatched++
			}
			actions[parseResponseBody(t, resp)]++
		}
	}
	for _, a := range []string{ActionCreate, ActionCommand, ActionReceive, ActionConnect, ActionEnumerate, ActionGet,
		ActionDisconnect, ActionReconnect, ActionSend, ActionSignal, ActionDelete} {
		assert.NotZero(t, actions[ResponseAction(a)], "no recorded %s", a)
	}
	assert.NotZero(t, actions[ActionFault])
	assert.Less(t, mismatched, 10, "RelatesTo differs from MessageID too often")
	t.Logf("%d responses with a re-used RelatesTo; response actions: %v", mismatched, actions)
}
