package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp/clixml"
)

func runCapture(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// records parses JSON lines into generic maps, failing on any bad line.
func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		recs = append(recs, m)
	}
	require.NoError(t, sc.Err())
	return recs
}

func TestRunRecordings(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	names := []string{"test_psrp_open_runspace", "test_psrp_disconnected_commands", "test_client_fetch_file", "test_winrs_standard"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "pypsrp", "responses", name+".yml")
			code, out, errs := runCapture(t, "", path)
			require.Equal(t, 0, code, errs)
			assert.Empty(t, errs)
			recs := records(t, out)

			b, err := os.ReadFile(path)
			require.NoError(t, err)
			want, err := psrptrace.Trace(path, b, psrptrace.FormatYAML)
			require.NoError(t, err)
			require.Len(t, recs, len(want))
			if strings.HasPrefix(name, "test_winrs") {
				assert.Empty(t, recs, "WinRS carries no PSRP")
			} else {
				assert.NotEmpty(t, recs)
			}
			for i, r := range recs {
				w := want[i]
				assert.Equal(t, path, r["file"])
				assert.Equal(t, float64(w.Exchange), r["exchange"])
				assert.Equal(t, w.Direction.String(), r["direction"])
				assert.Equal(t, w.Action, r["action"])
				assert.Equal(t, w.Message.Type.String(), r["type"])
				assert.Equal(t, w.Message.Destination.String(), r["destination"])
				assert.Equal(t, w.Message.RunspacePoolID.String(), r["rpid"])
				assert.Equal(t, w.Message.PipelineID.String(), r["pid"])
				assert.Contains(t, r, "value")
				if w.Value == nil {
					assert.Nil(t, r["value"])
				} else {
					js, err := clixml.JSON(w.Value)
					require.NoError(t, err)
					var want any
					require.NoError(t, json.Unmarshal(js, &want))
					assert.Equal(t, want, r["value"], "message %d", i)
				}
			}
		})
	}
}

// summaryCounts parses -summary output into counts per type.
func summaryCounts(t *testing.T, out string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		require.Len(t, f, 2, "line %q", line)
		n, err := strconv.Atoi(f[1])
		require.NoError(t, err)
		got[f[0]] = n
	}
	return got
}

func TestRunSummaryMatchesTrace(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	var files []string
	want := map[string]int{}
	for _, name := range []string{"test_psrp_disconnect_runspaces", "test_psrp_merge_commands", "test_psrp_pshost_methods", "test_winrs_send"} {
		path := filepath.Join(dir, "pypsrp", "responses", name+".yml")
		files = append(files, path)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		ms, err := psrptrace.Trace(path, b, psrptrace.FormatAuto)
		require.NoError(t, err)
		for _, m := range ms {
			want[m.Message.Type.String()]++
			want["total"]++
		}
	}
	code, out, errs := runCapture(t, "", append([]string{"-summary"}, files...)...)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, want, summaryCounts(t, out))
}

// TestRunSummaryAll is the check: the whole folder of pypsrp
// recordings holds 701 PSRP messages, every one decoded.
func TestRunSummaryAll(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	code, out, errs := runCapture(t, "", "-summary", filepath.Join(dir, "pypsrp", "responses"))
	require.Equal(t, 0, code, errs)
	got := summaryCounts(t, out)
	sum := 0
	for k, n := range got {
		if k != "total" {
			sum += n
		}
	}
	assert.Equal(t, 701, got["total"])
	assert.Equal(t, got["total"], sum)
	assert.Len(t, got, 28, "27 message types and the total")
}

func TestRunStdinAndFormats(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml"))
	require.NoError(t, err)
	for _, args := range [][]string{nil, {"-"}, {"-format", "base64"}, {"-format=base64", "-"}} {
		code, out, errs := runCapture(t, string(b), args...)
		require.Equal(t, 0, code, errs)
		recs := records(t, out)
		require.Len(t, recs, 2, "args %q", args)
		assert.Equal(t, "-", recs[0]["file"])
		assert.Equal(t, "SESSION_CAPABILITY", recs[0]["type"])
		assert.Equal(t, "INIT_RUNSPACEPOOL", recs[1]["type"])
		assert.Equal(t, "request", recs[1]["direction"])
	}
	// Forcing the wrong format is an error.
	code, _, errs := runCapture(t, string(b), "-format", "yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "psrpdump:")
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		err   string
	}{
		{"unknown flag", "", []string{"-nope"}, 2, "flag provided but not defined"},
		{"bad format", "", []string{"-format", "json"}, 2, "unknown format"},
		{"missing file", "", []string{filepath.Join(t.TempDir(), "absent.yml")}, 1, "no such file"},
		{"not base64", "this is not PSRP", nil, 1, "not base64"},
		{"broken envelope", "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">", nil, 1, "bad envelope"},
		{"truncated fragment", "AAAAAAAAAAEAAAAAAAAAAAMAAADK", nil, 1, "psrpdump:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCapture(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errs, tt.err)
			assert.Empty(t, out)
		})
	}
	code, _, errs := runCapture(t, "", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, errs, "usage: psrpdump")
}

func TestExpandDirectory(t *testing.T) {
	d := t.TempDir()
	for _, n := range []string{"b.yml", "a.xml", "_template.yml", ".hidden.yml", "c.b64", "notes.md", "dump.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(d, n), nil, 0o600))
	}
	require.NoError(t, os.Mkdir(filepath.Join(d, "sub.yml"), 0o700))
	got, err := expand([]string{d, "-"})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(d, "a.xml"), filepath.Join(d, "b.yml"), filepath.Join(d, "c.b64"), "-"}, got)
}
