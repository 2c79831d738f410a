package psrp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// recordedConnect is one new-client Connect of a recording: its
// connectXml, connectResponseXml and the payloads of the first pool Receive
// on that shell after it.
type recordedConnect struct {
	shell        string
	connectXML   []byte
	responseXML  []byte
	firstReceive []byte
}

// newClientConnects finds the new-client Connects of a recording (those
// with a connectXml) and the first pool Receive after each.
func newClientConnects(t *testing.T, rec *recordings.Recording) []*recordedConnect {
	t.Helper()
	var out []*recordedConnect
	waiting := map[string]*recordedConnect{}
	for i, ex := range rec.Messages {
		req, err := psrptrace.ScanEnvelope([]byte(ex.Request))
		require.NoError(t, err, "exchange %d", i)
		if !psrptrace.IsPowerShell(req.ResourceURI) || ex.Response == "" {
			continue
		}
		resp, err := psrptrace.ScanEnvelope([]byte(ex.Response))
		require.NoError(t, err, "exchange %d", i)
		shell := strings.ToUpper(req.ShellID)
		switch psrptrace.ShortAction(req.Action) {
		case "Connect":
			if len(req.Payloads) == 0 {
				continue // a command connect
			}
			c := &recordedConnect{shell: shell}
			c.connectXML, err = req.Payloads[0].Bytes()
			require.NoError(t, err)
			require.Len(t, resp.Payloads, 1, "exchange %d: connectResponseXml", i)
			c.responseXML, err = resp.Payloads[0].Bytes()
			require.NoError(t, err)
			waiting[shell] = c
			out = append(out, c)
		case "Receive":
			c := waiting[shell]
			if c == nil || len(resp.Payloads) == 0 || resp.Payloads[0].CommandID != "" {
				continue
			}
			for _, p := range resp.Payloads {
				b, err := p.Bytes()
				require.NoError(t, err)
				c.firstReceive = append(c.firstReceive, b...)
			}
			delete(waiting, shell)
		}
	}
	return out
}

// fragmentSummary lists ObjectId and message type of every message of a
// payload.
func fragmentSummary(t *testing.T, payload []byte) []string {
	t.Helper()
	msgs, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(payload)
	require.NoError(t, err)
	frags, err := psrp.DecodeFragments(payload)
	require.NoError(t, err)
	var ids []uint64
	for _, f := range frags {
		if f.End {
			ids = append(ids, f.ObjectID)
		}
	}
	require.Len(t, ids, len(msgs))
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Type.String() + "#" + strconv.FormatUint(ids[i], 10)
	}
	return out
}

// TestReplayConnectAnnouncementClient replays the new-client Connects of
// both recordings through ClientPool: RUNSPACEPOOL_INIT_DATA in the
// connect response opens the pool, the first pool Receive brings
// RUNSPACEPOOL_STATE Opened (pool without pipelines) or
// APPLICATION_PRIVATE_DATA (pool with a disconnected pipeline), and either
// way the pool ends Opened and can start a new pipeline.
func TestReplayConnectAnnouncementClient(t *testing.T) {
	for _, tc := range []struct {
		recording string
		first     psrp.MessageType
	}{
		{"test_psrp_disconnect_runspaces", psrp.MessageRunspacePoolState},
		{"test_psrp_disconnected_commands", psrp.MessageApplicationPrivateData},
	} {
		t.Run(tc.recording, func(t *testing.T) {
			connects := newClientConnects(t, recordings.LoadNamed(t, tc.recording))
			require.Len(t, connects, 2)
			for _, rc := range connects {
				req, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(rc.connectXML)
				require.NoError(t, err)
				c, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: req[0].RunspacePoolID})
				require.NoError(t, err)
				require.NoError(t, c.Connect())
				_, err = c.ConnectPayload(8192)
				require.NoError(t, err)

				ev, err := c.ReceiveData(rc.responseXML)
				require.NoError(t, err, rc.shell)
				assert.Equal(t, psrp.RunspacePoolOpened, c.State(), rc.shell)
				require.NotNil(t, c.InitData(), rc.shell)
				assert.Len(t, ev, 3, "capability, init data, Opened: %v", ev)

				require.NotEmpty(t, rc.firstReceive, "%s: no pool Receive after the connect", rc.shell)
				msgs, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(rc.firstReceive)
				require.NoError(t, err)
				require.Equal(t, []psrp.MessageType{tc.first}, types(msgs), rc.shell)
				ev, err = c.ReceiveData(rc.firstReceive)
				require.NoError(t, err, rc.shell)
				if tc.first == psrp.MessageApplicationPrivateData {
					require.Len(t, ev, 1)
					apd, ok := ev[0].(psrp.ApplicationPrivateDataReceived)
					require.True(t, ok, "%T", ev[0])
					assert.NotNil(t, apd.Data.PSVersionTable())
				} else {
					assert.Empty(t, ev, "a repeated Opened changes nothing")
				}
				assert.Equal(t, psrp.RunspacePoolOpened, c.State(), rc.shell)

				// The pool runs a new pipeline.
				pl, err := c.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true,
					PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "hostname"}}}})
				require.NoError(t, err)
				require.NoError(t, pl.Invoke())
				assert.Equal(t, []psrp.MessageType{psrp.MessageCreatePipeline}, types(drain(t, c, pl.Target())))
			}
		})
	}
}

// TestClientConnectAcceptsEitherOrder feeds a connecting ClientPool the
// server messages that may follow CONNECT_RUNSPACEPOOL in every order
// Windows and other servers use; the pool ends Opened each time.
func TestClientConnectAcceptsEitherOrder(t *testing.T) {
	id := uuid.New()
	// One counter, as a server numbers the messages of a shell: a client
	// drops a repeated ObjectId as a duplicate.
	var ids psrp.ObjectIDCounter
	server := func(d psrp.MessageData) []byte {
		data, err := clixml.Marshal(d.ToCLIXML())
		require.NoError(t, err)
		m := psrp.Message{Destination: psrp.DestinationClient, Type: d.MessageType(), RunspacePoolID: id, Data: data}
		f := psrp.NewFragmenter(0, &ids)
		f.QueueMessage(&m, true)
		b, err := f.NextPayload(1 << 16)
		require.NoError(t, err)
		return b
	}
	initData := server(&psrp.RunspacePoolInitData{MinRunspaces: 1, MaxRunspaces: 1})
	opened := server(&psrp.RunspacePoolStateInfo{State: psrp.RunspacePoolOpened})
	apd := server(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary(
		clixml.DictEntry{Key: clixml.String("k"), Value: clixml.String("v")})})
	for name, seq := range map[string][][]byte{
		"init, state (Windows, pool without pipelines)": {initData, opened},
		"init, app data (Windows, pool with pipelines)": {initData, apd},
		"init, app data, state":                         {initData, apd, opened},
		"init, state, app data":                         {initData, opened, apd},
		"state, init (psrpcore)":                        {opened, initData},
		"state, init, app data":                         {opened, initData, apd},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
			require.NoError(t, err)
			require.NoError(t, c.Connect())
			_, err = c.ConnectPayload(8192)
			require.NoError(t, err)
			for i, b := range seq {
				_, err := c.ReceiveData(b)
				require.NoError(t, err, "message %d", i)
				assert.Equal(t, psrp.RunspacePoolOpened, c.State(), "after message %d", i)
			}
			require.NotNil(t, c.InitData())
			_, err = c.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true,
				PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "hostname"}}}})
			require.NoError(t, err)
		})
	}
}

// TestReplayConnectAnnouncementServer feeds a ServerPool what the recorded
// clients sent (open, a pipeline in the second recording, disconnect,
// connect from a new client) and checks that its connect response and the
// first pool Receive after it carry the recorded messages under the
// recorded ObjectIds.
func TestReplayConnectAnnouncementServer(t *testing.T) {
	for _, name := range []string{"test_psrp_disconnect_runspaces", "test_psrp_disconnected_commands"} {
		t.Run(name, func(t *testing.T) {
			rec := recordings.LoadNamed(t, name)
			connects := newClientConnects(t, rec)
			require.Len(t, connects, 2)
			servers := map[string]*psrp.ServerPool{}
			for i, ex := range rec.Messages {
				req, err := psrptrace.ScanEnvelope([]byte(ex.Request))
				require.NoError(t, err)
				if !psrptrace.IsPowerShell(req.ResourceURI) || len(req.Payloads) == 0 {
					continue
				}
				shell := strings.ToUpper(req.ShellID)
				b, err := req.Payloads[0].Bytes()
				require.NoError(t, err)
				switch psrptrace.ShortAction(req.Action) {
				case "Create":
					resp, err := psrptrace.ScanEnvelope([]byte(ex.Response))
					require.NoError(t, err)
					s := psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{})
					servers[strings.ToUpper(resp.ShellID)] = s
					ev, err := s.ReceiveData(b)
					require.NoError(t, err)
					require.IsType(t, psrp.InitRunspacePoolReceived{}, ev[len(ev)-1])
					require.NoError(t, s.SendApplicationPrivateData(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()}))
					require.NoError(t, s.SetState(psrp.RunspacePoolOpened, nil))
					for s.PendingMessages(psrp.PoolTarget) > 0 { // the open's Receives
						_, err := s.NextPayload(psrp.PoolTarget, 1<<16)
						require.NoError(t, err)
					}
				case "Command":
					s := servers[shell]
					ev, err := s.ReceiveData(b)
					require.NoError(t, err)
					require.Len(t, ev, 1)
					cp, ok := ev[0].(psrp.CreatePipelineReceived)
					require.True(t, ok, "%T", ev[0])
					// The recorded script's Start-Sleep wrote a progress
					// record before the disconnect (ObjectId 4).
					require.NoError(t, s.Pipeline(cp.Pipeline).WriteProgress(&psrp.ProgressRecord{Activity: "Start-Sleep",
						StatusDescription: "Sleeping", ActivityID: 0, ParentActivityID: -1, PercentComplete: -1, SecondsRemaining: -1}))
				case "Connect":
					s := servers[shell]
					var rc *recordedConnect
					for _, c := range connects {
						if c.shell == shell {
							rc = c
						}
					}
					require.NotNil(t, rc)
					_, err = s.ReceiveConnect(b)
					require.NoError(t, err, "exchange %d", i)
					resp, err := s.ConnectResponse()
					require.NoError(t, err)
					assert.Equal(t, fragmentSummary(t, rc.responseXML), fragmentSummary(t, resp), "exchange %d: connect response", i)
					require.NoError(t, s.SendConnectAnnouncement(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()}))
					first, err := s.NextPayload(psrp.PoolTarget, 1<<16)
					require.NoError(t, err)
					assert.Equal(t, fragmentSummary(t, rc.firstReceive), fragmentSummary(t, first), "exchange %d: first pool Receive", i)
					if name == "test_psrp_disconnect_runspaces" {
						assert.Equal(t, rc.firstReceive, first, "the Opened message is sent again byte for byte")
					}
				}
			}
		})
	}
}
