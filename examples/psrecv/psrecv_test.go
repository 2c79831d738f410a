package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/maintest"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

const (
	testUser     = "demo"
	testPassword = "Pa55-w0rd-never-shown"
)

// startServer starts the fake server (NTLM with message encryption over
// HTTP, as a default Windows server) and points the child processes'
// environment at a fresh token store with the test credentials.
func startServer(t *testing.T) *wsmantest.Server {
	t.Helper()
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{testUser: testPassword}})
	t.Cleanup(srv.Close)
	srv.HandleFunc("Get-Numbers", func(ctx context.Context, inv *wsmantest.Invocation) error {
		for i := int32(1); i <= 3; i++ {
			if err := inv.WriteOutput(clixml.Int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	t.Setenv(passwordEnv, testPassword)
	t.Setenv(userEnv, testUser)
	t.Setenv(storeEnv, filepath.Join(t.TempDir(), "state"))
	return srv
}

func testConn(url string) session.ConnectionOptions {
	return session.ConnectionOptions{ConnectionURI: url, Credential: session.Credential{Username: testUser, Password: testPassword}}
}

// psrecv runs the program as a child process and fails the test unless it
// exits with want.
func psrecv(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := maintest.Run(t, args...)
	if code != want {
		t.Fatalf("psrecv %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, stdout, stderr)
	}
	return stdout, stderr
}

// The flow: invoke -in-disconnected-session in one process, receive
// -name in another; the token file is 0600 and holds no credentials.
func TestDisconnectedFlowAcrossProcesses(t *testing.T) {
	srv := startServer(t)
	out, _ := psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "Nightly",
		"-script", `1..3 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 50 }`)
	assert.Regexp(t, `(?m)^Id +Name +ComputerName +ComputerType +State +ConfigurationName +Availability$`, out)
	assert.Regexp(t, `Nightly +127.0.0.1 +RemoteMachine +Disconnected +Microsoft.PowerShell +None`, out)

	path := filepath.Join(os.Getenv(storeEnv), storeFile)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), testPassword)
	assert.NotContains(t, string(b), testUser)

	out, _ = psrecv(t, 0, "get", "-uri", srv.URL)
	assert.Contains(t, out, "Nightly")

	out, _ = psrecv(t, 0, "receive", "-name", "Nightly")
	assert.Equal(t, "Return 1\nReturn 2\nReturn 3\n", out)
	// The session was removed once received, and its token forgotten.
	out, _ = psrecv(t, 0, "get", "-uri", srv.URL)
	assert.NotContains(t, out, "Nightly")
	psrecv(t, exitNotFound, "receive", "-name", "Nightly")
}

// receive -computer/-uri -name (or -instance-id) finds a session that
// another client started: here this SDK in the test process.
func TestReceiveSessionOfAnotherClient(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, byID := range []bool{false, true} {
		s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: testConn(srv.URL), Name: "Other", Table: &session.Table{}},
			session.Pipeline{Command: "Get-Numbers"}, session.DisconnectOptions{})
		require.NoError(t, err)
		id := strings.ToUpper(s.InstanceID().String())
		require.NoError(t, s.Close(ctx))
		args := []string{"receive", "-uri", srv.URL, "-name", "Other"}
		if byID {
			args = []string{"receive", "-uri", srv.URL, "-instance-id", id}
		}
		out, _ := psrecv(t, 0, args...)
		assert.Equal(t, "1\n2\n3\n", out)
		_, ok := srv.Shell(id)
		assert.False(t, ok, "removed after receive")
	}
}

// -json prints one JSON object per result, parsed back here; errors are
// records of kind error and the exit code is 1.
func TestJSONOutput(t *testing.T) {
	srv := startServer(t)
	out, stderr := psrecv(t, exitFailed, "invoke", "-uri", srv.URL, "-json",
		"-script", `Write-Output 'a'; Write-Warning 'careful'; Write-Error 'bad thing'; Write-Output 42`)
	var recs []record
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		recs = append(recs, r)
	}
	kinds := make([]string, len(recs))
	for i, r := range recs {
		kinds[i] = r.Kind
		assert.Equal(t, "127.0.0.1", r.Computer)
		assert.NotEmpty(t, r.InstanceID)
	}
	assert.Equal(t, []string{"output", "warning", "error", "output", "state"}, kinds)
	assert.JSONEq(t, `"a"`, string(recs[0].Value))
	assert.Equal(t, "careful", recs[1].Text)
	require.NotNil(t, recs[2].Error)
	assert.Equal(t, "bad thing", recs[2].Error.Message)
	assert.Contains(t, recs[2].Error.FullyQualifiedErrorID, "WriteErrorException")
	assert.JSONEq(t, `42`, string(recs[3].Value))
	assert.Equal(t, "Completed", recs[4].State)
	assert.NotContains(t, stderr, "psrecv:", "the error record is the whole story")

	// get -json: one object per session.
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "J", "-idle-timeout", "10m", "-script", "1")
	out, _ = psrecv(t, 0, "get", "-uri", srv.URL, "-json")
	var s sessionJSON
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &s), out)
	assert.Equal(t, "J", s.Name)
	assert.Equal(t, "Disconnected", s.State)
	assert.Equal(t, "None", s.Availability)
	assert.Equal(t, "10m0s", s.IdleTimeout)
	assert.NotNil(t, s.ExpiresOn)
}

// Without a terminal, progress records are lines on stderr; error records
// are in PowerShell's style; output objects stay alone on stdout.
func TestProgressLinesAndErrorRecords(t *testing.T) {
	srv := startServer(t)
	out, stderr := psrecv(t, exitFailed, "invoke", "-uri", srv.URL, "-script",
		`Write-Progress -Activity Copying -Status Files -PercentComplete 40; 'x'; Write-Verbose 'v' -Verbose; Write-Error 'boom'`)
	assert.Equal(t, "x\n", out)
	assert.Contains(t, stderr, "PROGRESS: Copying: Files (40%)\n")
	assert.Contains(t, stderr, "VERBOSE: v\n")
	assert.Contains(t, stderr, "boom\n    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException\n"+
		"    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException\n"+
		"    + PSComputerName        : 127.0.0.1\n")
}

// connect, disconnect (new idle timeout and buffering mode), -whatif,
// -confirm and remove, each in its own process.
func TestConnectDisconnectRemove(t *testing.T) {
	srv := startServer(t)
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "S", "-script", "'hello'")
	out, _ := psrecv(t, 0, "disconnect", "-name", "S", "-idle-timeout", "15m", "-output-buffering-mode", "drop", "-json")
	var s sessionJSON
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &s), out)
	assert.Equal(t, "Disconnected", s.State)
	sh, ok := srv.Shell(s.InstanceID)
	require.True(t, ok)
	assert.Equal(t, "Drop", sh.BufferMode)
	out, _ = psrecv(t, 0, "get", "-uri", srv.URL, "-json")
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &s), out)
	assert.Equal(t, "15m0s", s.IdleTimeout)

	out, _ = psrecv(t, 0, "connect", "-uri", srv.URL, "-name", "S")
	assert.Regexp(t, `S +127.0.0.1 +RemoteMachine +Opened +Microsoft.PowerShell +(Available|Busy)`, out)
	sh, _ = srv.Shell(s.InstanceID)
	assert.Equal(t, "Disconnected", sh.State, "disconnected again when psrecv exits")

	out, _ = psrecv(t, 0, "remove", "-name", "S", "-whatif")
	assert.Equal(t, "What if: Performing the operation \"Remove-PSSession\" on target \"Name: S, ComputerName: 127.0.0.1\".\n", out)
	_, ok = srv.Shell(s.InstanceID)
	assert.True(t, ok, "-whatif changes nothing")

	cmd := maintest.Command(t, "remove", "-name", "S", "-confirm")
	cmd.Stdin = strings.NewReader("n\n")
	var stderrBuf strings.Builder
	cmd.Stderr = &stderrBuf
	require.NoError(t, cmd.Run())
	assert.Contains(t, stderrBuf.String(), "Are you sure you want to perform this action?")
	_, ok = srv.Shell(s.InstanceID)
	assert.True(t, ok, "declined")

	cmd = maintest.Command(t, "remove", "-name", "S", "-confirm")
	cmd.Stdin = strings.NewReader("y\n")
	require.NoError(t, cmd.Run())
	_, ok = srv.Shell(s.InstanceID)
	assert.False(t, ok, "removed")
	psrecv(t, exitNotFound, "remove", "-name", "S")
}

// receive -whatif says what it would do and leaves the session alone.
func TestReceiveWhatIf(t *testing.T) {
	srv := startServer(t)
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "W", "-script", "'w'")
	out, _ := psrecv(t, 0, "receive", "-uri", srv.URL, "-name", "W", "-whatif")
	assert.Contains(t, out, "What if: ")
	assert.Contains(t, out, "W")

	// -confirm answered no: nothing is received; yes: the results.
	for _, answer := range []string{"n\n", "y\n"} {
		cmd := maintest.Command(t, "receive", "-name", "W", "-confirm")
		cmd.Stdin = strings.NewReader(answer)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), stderr.String())
		assert.Contains(t, stderr.String(), `Performing the operation "Receive-PSSession" on target "Name: W, ComputerName: 127.0.0.1"`)
		if answer == "n\n" {
			assert.Empty(t, stdout.String())
		} else {
			assert.Equal(t, "w\n", stdout.String())
		}
	}
}

// invoke -file - reads the script from stdin.
func TestInvokeScriptFromStdin(t *testing.T) {
	srv := startServer(t)
	cmd := maintest.Command(t, "invoke", "-uri", srv.URL, "-file", "-")
	cmd.Stdin = strings.NewReader("Write-Output 'from'\nWrite-Output 'stdin'\n")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Equal(t, "from\nstdin\n", stdout.String())
}

// Jobs kept through reattach tokens: invoke -as-job, job list, wait,
// receive with -keep (twice), stop, remove; and receive -out-target job.
func TestJobs(t *testing.T) {
	srv := startServer(t)
	out, _ := psrecv(t, 0, "invoke", "-uri", srv.URL, "-as-job", "-job-name", "J", "-script", "Get-Numbers")
	assert.Regexp(t, `(?m)^Id +Name +PSJobTypeName +State +HasMoreData +Location +Command$`, out)
	assert.Regexp(t, `1 +J +RemoteJob +\w+ +true +127.0.0.1 +Get-Numbers`, out)

	out, _ = psrecv(t, 0, "job", "wait", "-name", "J")
	assert.Regexp(t, `1 +J +RemoteJob +Completed +true`, out)
	out, _ = psrecv(t, 0, "job", "receive", "-name", "J", "-keep")
	assert.Equal(t, "1\n2\n3\n", out)
	out, _ = psrecv(t, 0, "job", "receive", "-id", "1")
	assert.Equal(t, "1\n2\n3\n", out, "kept by -keep")
	out, _ = psrecv(t, 0, "job", "receive", "-name", "J")
	assert.Empty(t, out, "taken by the receive without -keep")
	out, _ = psrecv(t, 0, "job", "list", "-json")
	var j jobJSON
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &j), out)
	assert.Equal(t, jobJSON{ID: 1, Name: "J", PSJobTypeName: "RemoteJob", State: "Completed", HasMoreData: false,
		Location: "127.0.0.1", Command: "Get-Numbers", SessionName: j.SessionName, InstanceID: j.InstanceID}, j)
	psrecv(t, 0, "job", "remove", "-name", "J")
	out, _ = psrecv(t, 0, "job", "list")
	assert.Empty(t, out)

	// A long job, stopped.
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-as-job", "-job-name", "Long", "-script", "Start-Sleep -Seconds 3600")
	psrecv(t, 1, "job", "remove", "-name", "Long")
	out, _ = psrecv(t, 0, "job", "stop", "-name", "Long")
	assert.Regexp(t, `Long +RemoteJob +Stopped`, out)
	psrecv(t, 0, "job", "remove", "-name", "Long")

	// A job that fails: its results, then its error, exit 1.
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-as-job", "-job-name", "F", "-script", `'before'; Write-Error 'fatal' -ErrorAction Stop; 'after'`)
	out, stderr := psrecv(t, exitFailed, "job", "receive", "-name", "F", "-wait")
	assert.Equal(t, "before\n", out)
	assert.Contains(t, stderr, "fatal\n    + CategoryInfo")
	out, _ = psrecv(t, 0, "job", "list")
	assert.Regexp(t, `F +RemoteJob +Failed +false`, out)

	// receive -out-target job: the session becomes a kept job.
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "R", "-script", "Get-Numbers")
	out, _ = psrecv(t, 0, "receive", "-name", "R", "-out-target", "job", "-job-name", "RJ")
	assert.Regexp(t, `RJ +RemoteJob +\w+ +true +127.0.0.1`, out)
	out, _ = psrecv(t, 0, "job", "receive", "-name", "RJ", "-wait")
	assert.Equal(t, "1\n2\n3\n", out)
}

// fake-server serves until interrupted: the demo needs nothing else.
func TestFakeServerSubcommand(t *testing.T) {
	t.Setenv(passwordEnv, testPassword)
	t.Setenv(userEnv, testUser)
	t.Setenv(storeEnv, filepath.Join(t.TempDir(), "state"))
	cmd := maintest.Command(t, "fake-server", "-addr", "127.0.0.1:0", "-user", testUser)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() }) // hang guard
	defer timer.Stop()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	url := strings.TrimSpace(line)
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), "printed %q", line)
	code, out, errOut := maintest.Run(t, "invoke", "-uri", url, "-script", "'from the fake server'")
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "from the fake server\n", out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait(), stderr.String())
	assert.Contains(t, stderr.String(), "psrecv receive -name Nightly")
	assert.NotContains(t, stderr.String(), testPassword)
}

// Ctrl+C during receive leaves the session disconnected with its token
// saved (exit 130); the next receive gets the rest: nothing is lost or
// received twice.
func TestReceiveInterruptedLosesNothing(t *testing.T) {
	srv := startServer(t)
	const n = 150
	// The command writes 3 results, waits for the gate (the test opens it
	// once psrecv was interrupted), then writes the rest.
	gate := make(chan struct{})
	srv.HandleFunc("Get-Gated", func(ctx context.Context, inv *wsmantest.Invocation) error {
		for i := 1; i <= n; i++ {
			if i == 4 {
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := inv.WriteOutput(clixml.String("Return " + strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "Long", "-script", "Get-Gated")
	cmd := maintest.Command(t, "receive", "-name", "Long")
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var first []string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		first = append(first, sc.Text())
		if len(first) == 3 {
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
		}
	}
	err = cmd.Wait()
	var exit interface{ ExitCode() int }
	require.ErrorAs(t, err, &exit, stderr.String())
	require.Equal(t, exitInterrupted, exit.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "left disconnected")
	require.Len(t, first, 3, "interrupted while the command waits")
	close(gate)

	out, _ := psrecv(t, 0, "receive", "-name", "Long")
	all := append(first, strings.Split(strings.TrimSuffix(out, "\n"), "\n")...)
	want := make([]string, n)
	for i := range want {
		want[i] = "Return " + strconv.Itoa(i+1)
	}
	assert.Equal(t, want, all)
}

// -computer takes a list for get (one row per computer's session) and a
// name for the others; -port reaches the fake server.
func TestComputerNames(t *testing.T) {
	srv := startServer(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port := u.Port()
	psrecv(t, 0, "invoke", "-computer", "127.0.0.1", "-port", port, "-in-disconnected-session", "-name", "C", "-script", "'c'")
	out, _ := psrecv(t, 0, "get", "-computer", "127.0.0.1,localhost", "-port", port, "-name", "C*")
	assert.Regexp(t, `C +127.0.0.1 +RemoteMachine +Disconnected`, out)
	assert.Regexp(t, `C +localhost +RemoteMachine +Disconnected`, out)
	out, _ = psrecv(t, 0, "get", "-computer", "127.0.0.1", "-port", port, "-name", "nomatch*")
	assert.Empty(t, out)
	out, _ = psrecv(t, 0, "receive", "-computer", "localhost", "-port", port, "-name", "C")
	assert.Equal(t, "c\n", out)
}

// The SDK's packages do not depend on the CLI's libraries.
func TestSDKFreeOfCLIDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/psremoting/psremoting/session",
		"github.com/psremoting/psremoting/job", "github.com/psremoting/psremoting/wsman",
		"github.com/psremoting/psremoting/auth", "github.com/psremoting/psremoting/psrp/...").Output()
	require.NoError(t, err)
	for _, dep := range []string{"golang.org/x/term", "github.com/schollz/progressbar", "github.com/creack/pty"} {
		assert.NotContains(t, string(out), dep)
	}
	assert.Contains(t, string(out), "github.com/psremoting/psremoting/session", "the list is real")
}

// A session the server no longer has (removed by another client, or its
// idle timeout expired) exits 5, and its token is forgotten.
func TestExpiredSessionForgotten(t *testing.T) {
	srv := startServer(t)
	psrecv(t, 0, "invoke", "-uri", srv.URL, "-in-disconnected-session", "-name", "E", "-script", "'e'")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ss, err := session.Get(ctx, session.GetOptions{ConnectionOptions: testConn(srv.URL), Name: "E", Table: &session.Table{}})
	require.NoError(t, err)
	require.Len(t, ss, 1)
	require.NoError(t, ss[0].Remove(ctx))

	_, stderr := psrecv(t, exitNotFound, "receive", "-name", "E")
	assert.NotContains(t, stderr, "token store", "found in the store, gone on the server")
	_, stderr = psrecv(t, exitNotFound, "receive", "-name", "E")
	assert.Contains(t, stderr, "token store", "forgotten")
}
