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

// A pattern with many stars on a long name stays cheap (no exponential
// backtracking): a hostile server chooses the names.
func TestWildcardNoBlowUp(t *testing.T) {
	w, _ := compileWildcard("*a*a*a*a*a*a*a*a*a*a*a*a*b")
	name := make([]rune, 4000)
	for i := range name {
		name[i] = 'a'
	}
	if w.match(string(name)) {
		t.Error("matched without a b")
	}
}

// FuzzWildcard: any pattern compiles or fails cleanly, matching never
// panics, and an escaped string matches itself.
func FuzzWildcard(f *testing.F) {
	f.Add("IT*", "ITTask")
	f.Add("[a-", "x")
	f.Add("`", "`")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if w, err := compileWildcard(pattern); err == nil {
			_ = w.match(s)
		}
		w, err := compileWildcard(escapeWildcard(s))
		if err != nil {
			t.Fatalf("escaped %q does not compile: %v", s, err)
		}
		if !w.match(s) {
			t.Fatalf("escaped %q does not match itself", s)
		}
	})
}
