package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestRunAgainstEmbeddedServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"-name", "TestSession"}, &out, noEnv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	// Client A disconnects with the command still running.
	if !strings.Contains(got, "Disconnected: pool Disconnected, pipeline Disconnected.") {
		t.Errorf("no disconnect line in:\n%s", got)
	}
	// Client B sees the session as Disconnected in the list.
	if !regexp.MustCompile(`(?m)^TestSession\s+[0-9A-F-]{36}\s+Disconnected\s+Block\s`).MatchString(got) {
		t.Errorf("session not listed as Disconnected:\n%s", got)
	}
	// Every result arrives once, in order, at the new client.
	var lines []string
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "  Return ") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	want := []string{"Return 1", "Return 2", "Return 3", "Return 4", "Return 5"}
	if strings.Join(lines, ",") != strings.Join(want, ",") {
		t.Errorf("results = %q, want %q", lines, want)
	}
	for _, s := range []string{"Pipeline state: Completed", "Removed the session."} {
		if !strings.Contains(got, s) {
			t.Errorf("missing %q in:\n%s", s, got)
		}
	}
}

func TestFlags(t *testing.T) {
	if _, err := parseFlags([]string{"-url", "http://h:5985/wsman"}, noEnv); err == nil {
		t.Error("-url without -user accepted")
	}
	c, err := parseFlags([]string{"-url", "http://h:5985/wsman", "-user", `D\u`}, func(k string) string {
		if k == "PSREMOTING_PASSWORD" {
			return "pw"
		}
		return ""
	})
	if err != nil || c.password != "pw" || c.user != `D\u` {
		t.Fatalf("parseFlags = %+v, %v", c, err)
	}
	if _, err := newClient(&config{url: "http://h:5985/wsman", authMethod: "digest"}); err == nil {
		t.Error("unsupported auth method accepted")
	}
}
