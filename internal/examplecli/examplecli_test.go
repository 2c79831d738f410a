package examplecli

import (
	"bytes"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func TestTable(t *testing.T) {
	var b bytes.Buffer
	Table(&b, []Column{{Header: "Id", Right: true}, {Header: "Name"}, {Header: "Availability", Right: true}},
		[][]string{{"1", "Backup", "None"}, {"12", "AD", "Available"}})
	want := "\n" +
		"Id Name   Availability\n" +
		"-- ----   ------------\n" +
		" 1 Backup         None\n" +
		"12 AD        Available\n\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestProgressNotTerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b)
	p.Show(&psrp.ProgressRecord{Activity: "Copy", StatusDescription: "a", PercentComplete: 50})
	p.Show(&psrp.ProgressRecord{Activity: "Copy", StatusDescription: "a", PercentComplete: 50}) // no change: not drawn
	p.Above(func() { b.WriteString("output\n") })
	p.Show(&psrp.ProgressRecord{Activity: "Copy", StatusDescription: "b", PercentComplete: 150})
	p.Show(&psrp.ProgressRecord{Activity: "Scan", StatusDescription: "c", PercentComplete: -1})
	p.Show(&psrp.ProgressRecord{Activity: "Scan", RecordType: psrp.ProgressCompleted})
	want := "Copy [##########----------]  50% a\noutput\nCopy [####################] 100% b\nScan [????????????????????] c\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := &Progress{w: &b, tty: true}
	p.Show(&psrp.ProgressRecord{Activity: "Copy", PercentComplete: 0})
	p.Above(func() { b.WriteString("[out]") })
	p.Done()
	want := "\rCopy [--------------------]   0% \x1b[K\r\x1b[K[out]\rCopy [--------------------]   0% \x1b[K\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

// The real-host flags become ConnectionOptions, one per computer; the
// password is never a flag.
func TestTargets(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Common
	c.Register(fs)
	if err := fs.Parse([]string{"-computer", "a, b", "-ssl", "-port", "5999", "-auth", "Kerberos", "-user", "u@R", "-insecure-skip-verify", "-configuration", "Cfg"}); err != nil {
		t.Fatal(err)
	}
	if fs.Lookup("password") != nil {
		t.Fatal("a -password flag exists")
	}
	got, err := c.targets("pw")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ComputerName != "a" || got[1].ComputerName != "b" {
		t.Fatalf("targets %+v", got)
	}
	g := got[1]
	if !g.UseSSL || g.Port != 5999 || g.Authentication != session.AuthKerberos || g.Credential.Username != "u@R" ||
		g.Credential.Password != "pw" || !g.SessionOption.SkipCACheck || !g.SessionOption.SkipCNCheck || g.ConfigurationName != "Cfg" {
		t.Fatalf("target %+v", g)
	}
}

func TestConfigurations(t *testing.T) {
	p := Program{Configuration: "ITTasks"}
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"", []string{"Microsoft.PowerShell", "ITTasks"}},
		{"microsoft.powershell", []string{"Microsoft.PowerShell", "ITTasks"}},
		{"Other", []string{"Microsoft.PowerShell", "ITTasks", "Other"}},
	} {
		got := configurations(&Common{Configuration: tc.flag}, p)
		if len(got) != len(tc.want) {
			t.Errorf("-configuration %q: %q, want %q", tc.flag, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("-configuration %q: %q, want %q", tc.flag, got, tc.want)
			}
		}
	}
	if got := configuration(&Common{}, p, false); got != "" {
		t.Errorf("real host default configuration %q, want the server's default", got)
	}
}

// RunClock moves the fake clock until stopped; stop may be called twice.
func TestRunClock(t *testing.T) {
	e := &Env{Clock: wsmantest.NewManualClock(time.Unix(0, 0))}
	stop := e.RunClock(time.Hour)
	for e.Clock.Now().Before(time.Unix(0, 0).Add(3 * time.Hour)) {
		time.Sleep(time.Millisecond)
	}
	stop()
	at := e.Clock.Now()
	time.Sleep(30 * time.Millisecond)
	if !e.Clock.Now().Equal(at) {
		t.Fatal("the clock moved after stop")
	}
	stop()
	(&Env{}).RunClock(time.Hour)() // no clock: nothing to do
}
