package wildcard

import (
	"errors"
	"strings"
	"testing"
)

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a*b*c", "axxbyyc", true},
		{"*ab", "aab", true},
		{"?", "é", true},
		{"??", "é", false},
		{"ÉTÉ", "été", true},
		{"[abc]x", "Bx", true},
		{"[a-c]", "d", false},
		{"[A-C]", "b", true},
		{"[-a]", "-", true},
		{"[a-]", "-", true},
		{"`*", "*", true},
		{"`*", "a", false},
		{"a`", "a`", true},
		{"[`]]", "]", true},
		{"**a", "ba", true},
	}
	for _, tt := range tests {
		w, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("compile %q: %v", tt.pattern, err)
		}
		if got := w.Match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
	for _, bad := range []string{"[", "a[b", "[]", "x[`]"} {
		if _, err := Compile(bad); !errors.Is(err, ErrBadPattern) {
			t.Errorf("compile %q = %v, want ErrBadPattern", bad, err)
		}
	}
}

func FuzzWildcard(f *testing.F) {
	for _, s := range []string{"a*b", "[a-z]?", "`[x", "[", "*?*"} {
		f.Add(s, "abc")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		w, err := Compile(pattern)
		if err != nil {
			return
		}
		w.Match(s) // must not panic or hang
		// A pattern made only of literal characters matches itself.
		lit := make([]rune, 0, len(s)*2)
		for _, r := range s {
			lit = append(lit, '`', r)
		}
		lw, err := Compile(string(lit))
		if err != nil {
			t.Fatalf("escaped literal %q: %v", string(lit), err)
		}
		if !lw.Match(s) {
			t.Fatalf("escaped %q does not match itself", s)
		}
	})
}

func TestMatchAndHasWildcards(t *testing.T) {
	if ok, err := Match("Sess*", "session1"); err != nil || !ok {
		t.Errorf("Match(Sess*, session1) = %v, %v", ok, err)
	}
	if _, err := Match("[", "x"); !errors.Is(err, ErrBadPattern) {
		t.Errorf("Match([) error = %v, want ErrBadPattern", err)
	}
	for p, want := range map[string]bool{"abc": false, "a*": true, "a?": true, "[ab]": true, "a`*": false, "``*": true, "": false} {
		if got := HasWildcards(p); got != want {
			t.Errorf("HasWildcards(%q) = %v, want %v", p, got, want)
		}
	}
}

// A pattern of many stars against a long name that almost matches stays
// polynomial: this would take exponential time with naive backtracking.
func TestNoBlowUp(t *testing.T) {
	p := strings.Repeat("*a", 40) + "b"
	s := strings.Repeat("a", 2000)
	w, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if w.Match(s) {
		t.Fatalf("%q should not match", p)
	}
}
