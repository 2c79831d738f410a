package session

import (
	"testing"

	"github.com/psremoting/psremoting/internal/wildcard"
)

// escapeWildcard makes a pattern that matches exactly the name: the
// ComputerName/ConnectionUri selectors take names, not patterns.
func TestEscapeWildcard(t *testing.T) {
	if got := escapeWildcard("a*b?[c]`"); got != "a`*b`?`[c`]``" {
		t.Errorf("escapeWildcard = %q", got)
	}
	w, err := wildcard.Compile(escapeWildcard("we*ird[name]?"))
	if err != nil {
		t.Fatal(err)
	}
	if !w.Match("we*ird[name]?") || w.Match("weXird[name]!") {
		t.Error("an escaped name matches only itself")
	}
}

// FuzzEscapeWildcard: an escaped name always compiles and matches itself.
func FuzzEscapeWildcard(f *testing.F) {
	f.Add("ITTask")
	f.Add("[a-")
	f.Add("`")
	f.Fuzz(func(t *testing.T, s string) {
		w, err := wildcard.Compile(escapeWildcard(s))
		if err != nil {
			t.Fatalf("escaped %q does not compile: %v", s, err)
		}
		if !w.Match(s) {
			t.Fatalf("escaped %q does not match itself", s)
		}
	})
}
