package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psremoting/psremoting/psrp/clixml"
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

// fanOut is a server's object of shared references: levels nested lists,
// each holding the next level once and fan-1 references to it.
func fanOut(levels, fan int) string {
	var b strings.Builder
	var build func(level int)
	build = func(level int) {
		fmt.Fprintf(&b, `<Obj RefId="%d"><LST>`, level)
		if level == levels-1 {
			for range fan {
				b.WriteString("<S>x</S>")
			}
		} else {
			build(level + 1)
			for range fan - 1 {
				fmt.Fprintf(&b, `<Ref RefId="%d" />`, level+1)
			}
		}
		b.WriteString("</LST></Obj>")
	}
	build(0)
	return b.String()
}

// Output values are displayed in a bounded form: a small object of shared
// references (1 KB that prints as 7 MB as a tree) is shown in its linear
// JSON form, simple values as before.
func TestDisplayBounded(t *testing.T) {
	src := fanOut(6, 10)
	v, err := clixml.Unmarshal([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := display(v)
	t.Logf("%d bytes of CLIXML displayed as %d bytes", len(src), len(got))
	if len(got) > 4*len(src) || !strings.Contains(got, `"$ref"`) {
		t.Errorf("display of shared references is %d bytes (CLIXML %d): %.200s", len(got), len(src), got)
	}
	small, err := clixml.Unmarshal([]byte(fanOut(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := display(small), "[[x x x] [x x x] [x x x]]"; got != want {
		t.Errorf("display = %q, want %q", got, want)
	}
	if got := display(clixml.Int32(7)); got != "7" {
		t.Errorf("display(7) = %q", got)
	}
}
