package wsmantest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

var reMessageID = regexp.MustCompile(`<wsa:MessageID>uuid:[0-9A-Fa-f-]+</wsa:MessageID>`)

// pipelineReplay is the PSRP traffic of the first pipeline of a recording:
// what Windows sent for it, and what the fake server sent when the recorded
// requests were replayed to it.
type pipelineReplay struct {
	create   *psrp.CreatePipeline
	recorded []psrptrace.Message
	fake     []psrptrace.Message
}

// replayPipeline replays a recording's requests to srv up to its first
// PowerShell Command (CREATE_PIPELINE), then repeats the recorded Receive
// of that command until the fake server sent the pipeline's final state.
// When clock is set, it is advanced in the background (a second at a time)
// until the replay ends, so that server-side sleeps and Receive timeouts
// pass without waiting.
func replayPipeline(t *testing.T, name string, srv *wsmantest.Server, clock *wsmantest.ManualClock) *pipelineReplay {
	t.Helper()
	rec := recordings.LoadNamed(t, name)
	all, err := psrptrace.Recording(rec)
	require.NoError(t, err)
	out := &pipelineReplay{}
	var pid uuid.UUID
	for _, m := range all {
		if m.Message.Type == psrp.MessageCreatePipeline && out.create == nil {
			out.create = m.Object.(*psrp.CreatePipeline)
			pid = m.Message.PipelineID
			continue
		}
		if out.create != nil && m.Direction == psrptrace.Response && m.Message.PipelineID == pid {
			out.recorded = append(out.recorded, m)
		}
	}
	require.NotNil(t, out.create, "%s has no CREATE_PIPELINE", name)

	if clock != nil {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					clock.Advance(time.Second)
				}
			}
		}()
		defer func() { close(done); wg.Wait() }()
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	client := srv.Client()
	post := func(req string) []byte {
		req = reMessageID.ReplaceAllString(req, "<wsa:MessageID>uuid:"+strings.ToUpper(uuid.NewString())+"</wsa:MessageID>")
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader([]byte(req)))
		require.NoError(t, err)
		hr.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		resp, err := client.Do(hr)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return b
	}
	tracer := psrptrace.NewTracer(name)
	ids := map[string]string{}
	subst := func(s string) string {
		for from, to := range ids {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	cmdAt := -1
	for i, ex := range rec.Messages {
		if ex.Request == "" || ex.AuthError || ex.HTTPError {
			continue
		}
		req := subst(ex.Request)
		got := post(req)
		if _, err := tracer.Exchange(i, []byte(req), got); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		if shortAction(req) == "Command" && strings.Contains(req, "http://schemas.microsoft.com/powershell/") {
			if m := reCmdID.FindStringSubmatch(ex.Response); m != nil {
				if f := reCmdID.FindSubmatch(got); f != nil && m[1] != string(f[1]) {
					ids[m[1]] = string(f[1])
				}
			}
			cmdAt = i
			break
		}
	}
	require.GreaterOrEqual(t, cmdAt, 0, "%s: no PowerShell Command request", name)
	var receive string
	for _, ex := range rec.Messages[cmdAt+1:] {
		if shortAction(ex.Request) == "Receive" && strings.Contains(ex.Request, "CommandId=") {
			receive = subst(ex.Request)
			break
		}
	}
	require.NotEmpty(t, receive, "%s: no Receive for the command", name)
	for n := 0; ; n++ {
		require.Less(t, n, 1000, "the pipeline did not end")
		got := post(receive)
		ms, err := tracer.Exchange(cmdAt+1+n, []byte(receive), got)
		require.NoError(t, err)
		ended := false
		for _, m := range ms {
			if m.Direction == psrptrace.Response && m.Message.PipelineID == pid {
				out.fake = append(out.fake, m)
				ended = ended || m.Message.Type == psrp.MessagePipelineState
			}
		}
		if ended {
			return out
		}
	}
}

// types lists the message types of msgs, leaving out progress records
// (Windows sends "Preparing modules for first use." on a fresh host).
func types(msgs []psrptrace.Message) []string {
	var out []string
	for _, m := range msgs {
		if m.Message.Type != psrp.MessageProgressRecord {
			out = append(out, m.Message.Type.String())
		}
	}
	return out
}

// outputs returns the PIPELINE_OUTPUT values of msgs as text.
func outputs(msgs []psrptrace.Message) []string {
	var out []string
	for _, m := range msgs {
		if m.Message.Type == psrp.MessagePipelineOutput {
			out = append(out, fmt.Sprint(clixml.ToGo(m.Value)))
		}
	}
	return out
}

// finalState returns the PIPELINE_STATE of msgs.
func finalState(t *testing.T, msgs []psrptrace.Message) *psrp.PipelineStateInfo {
	t.Helper()
	for _, m := range msgs {
		if m.Message.Type == psrp.MessagePipelineState {
			return m.Object.(*psrp.PipelineStateInfo)
		}
	}
	t.Fatal("no PIPELINE_STATE")
	return nil
}

// TestStatementsLongRunningRecorded replays test_psrp_long_running_cmdlet:
// two statements, "Start-Sleep -Seconds 10" and "echo hi", in ExtraCmds
// (with the first repeated in Cmds). Each statement runs once, on its own:
// the only output is "hi", as Windows sent, then Completed.
func TestStatementsLongRunningRecorded(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := wsmantest.NewServer(wsmantest.Options{Clock: clock, InactivityWindow: -1, MaxOperationTimeout: 5 * time.Second})
	defer srv.Close()
	r := replayPipeline(t, "test_psrp_long_running_cmdlet", srv, clock)
	require.Len(t, r.create.PowerShell.Statements(), 2)
	assert.Equal(t, []string{"hi"}, outputs(r.recorded))
	assert.Equal(t, outputs(r.recorded), outputs(r.fake))
	assert.Equal(t, types(r.recorded), types(r.fake))
	assert.Equal(t, psrp.PSInvocationCompleted, finalState(t, r.fake).State)
}

// envText is a parameter value as a Windows environment variable holds it.
func envText(v clixml.Value) string {
	if b, ok := v.(clixml.Bool); ok {
		if b {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(clixml.ToGo(v))
}

// TestStatementsEnvironmentRecorded replays
// test_client_execute_ps_environment: eight statements, seven "New-Item
// -Path env: -Name N -Value V -Force | Out-Null" and then
// "Invoke-Expression 'cmd.exe /c set' | Out-String -Stream". With handlers
// standing in for New-Item and Invoke-Expression, each statement runs once
// (the first is not run again from Cmds), the last one's output is returned
// and every line of it is one Windows returned; no error record, Completed.
func TestStatementsEnvironmentRecorded(t *testing.T) {
	var mu sync.Mutex
	env := map[string]string{}
	var created []string
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1, MaxOperationTimeout: time.Second})
	defer srv.Close()
	srv.HandleFunc("New-Item", func(_ context.Context, inv *wsmantest.Invocation) error {
		var name, value string
		for _, p := range inv.Pipeline[0].Parameters {
			switch p.Name {
			case "Name":
				name = envText(p.Value)
			case "Value":
				value = envText(p.Value)
			}
		}
		if len(inv.Pipeline) != 2 || inv.Pipeline[1].Name != "Out-Null" {
			return fmt.Errorf("unexpected statement %q", inv.Text())
		}
		mu.Lock()
		defer mu.Unlock()
		env[name] = value
		created = append(created, name)
		return nil // | Out-Null
	})
	srv.HandleFunc("Invoke-Expression", func(_ context.Context, inv *wsmantest.Invocation) error {
		mu.Lock()
		lines := make([]string, 0, len(env))
		for k, v := range env {
			lines = append(lines, k+"="+v)
		}
		mu.Unlock()
		sort.Strings(lines)
		for _, l := range lines {
			if err := inv.WriteOutput(clixml.String(l)); err != nil {
				return err
			}
		}
		return nil
	})
	r := replayPipeline(t, "test_client_execute_ps_environment", srv, nil)
	stmts := r.create.PowerShell.Statements()
	require.Len(t, stmts, 8)

	mu.Lock()
	var want []string
	for _, st := range stmts[:7] {
		for _, p := range st[0].Args {
			if p.Name == "Name" {
				want = append(want, envText(p.Value))
			}
		}
	}
	assert.Equal(t, want, created, "each New-Item statement runs once, in order")
	mu.Unlock()

	recorded := map[string]bool{}
	for _, o := range outputs(r.recorded) {
		recorded[o] = true
	}
	got := outputs(r.fake)
	require.Len(t, got, 7)
	for _, o := range got {
		assert.True(t, recorded[o], "output %q is not one Windows returned", o)
	}
	assert.NotContains(t, types(r.recorded), psrp.MessageErrorRecord.String())
	assert.NotContains(t, types(r.fake), psrp.MessageErrorRecord.String())
	assert.Equal(t, psrp.PSInvocationCompleted, finalState(t, r.recorded).State)
	assert.Equal(t, psrp.PSInvocationCompleted, finalState(t, r.fake).State)
}
