package session

import "testing"

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"IT*", "ittask", true}, {"IT*", "Backup", false},
		{"?ack?p", "Backup", true}, {"?ack?p", "Backups", false}, {"[a-c]ackup", "Backup", true},
		{"[xyz]ackup", "Backup", false}, {"B[aeiou]g*", "BugStatus", true}, {"a`*b", "a*b", true},
		{"a`*b", "axb", false}, {"a`[b", "a[b", true}, {"", "", true}, {"", "x", false},
		{"*Task*", "ITTaskJob01", true}, {"Nightly", "NIGHTLY", true},
	} {
		w, err := compileWildcard(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := w.match(tc.s); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	if _, err := compileWildcard("a[bc"); err == nil {
		t.Error("unclosed [ accepted")
	}
	if got := escapeWildcard("a*b?[c]`"); got != "a`*b`?`[c`]``" {
		t.Errorf("escapeWildcard = %q", got)
	}
	w, _ := compileWildcard(escapeWildcard("we*ird[name]?"))
	if !w.match("we*ird[name]?") || w.match("weXird[name]!") {
		t.Error("an escaped name matches only itself")
	}
}
