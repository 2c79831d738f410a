// Package wildcard matches PowerShell wildcard patterns (the
// WildcardPattern class with IgnoreCase, MS-PSRP 2.2.3.20): * any run of
// characters, ? any one character, [abc] and [a-z] one character of a set,
// and a backtick escaping the next character. Matching is case-insensitive
// (Unicode simple folding) and takes O(len(pattern) x len(s)) at worst, so a
// hostile pattern cannot make it blow up.
//
// It is shared by the packages that filter by name as PowerShell's cmdlets
// do: job (Get-Job -Name), session (Get-PSSession -Name) and the fake
// server (GET_COMMAND_METADATA name patterns).
package wildcard

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrBadPattern is returned by Compile for a malformed pattern (an unclosed
// or empty [ set).
var ErrBadPattern = errors.New("malformed wildcard pattern")

// A Pattern is a compiled PowerShell wildcard pattern: a sequence of
// elements. The zero value matches only the empty string.
type Pattern []wildElem

type wildKind int

const (
	wildLiteral wildKind = iota // one given character
	wildOne                     // ? : any one character
	wildAny                     // * : any run of characters
	wildSet                     // [...] : one character of a set
)

type wildElem struct {
	kind   wildKind
	r      rune      // wildLiteral
	ranges [][2]rune // wildSet: inclusive ranges (a single character is [c, c])
}

// Compile parses pattern. A backtick escapes the next character (outside
// and inside brackets); a trailing backtick stands for itself. A malformed
// pattern gives an error matching ErrBadPattern.
func Compile(pattern string) (Pattern, error) {
	rs := []rune(pattern)
	var w Pattern
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '`':
			if i+1 < len(rs) {
				i++
				w = append(w, wildElem{kind: wildLiteral, r: rs[i]})
			} else {
				w = append(w, wildElem{kind: wildLiteral, r: r})
			}
		case '?':
			w = append(w, wildElem{kind: wildOne})
		case '*':
			if len(w) == 0 || w[len(w)-1].kind != wildAny {
				w = append(w, wildElem{kind: wildAny})
			}
		case '[':
			e := wildElem{kind: wildSet}
			j := i + 1
			closed := false
			for j < len(rs) {
				c := rs[j]
				if c == ']' {
					closed = true
					break
				}
				if c == '`' && j+1 < len(rs) {
					j++
					c = rs[j]
				}
				if j+2 < len(rs) && rs[j+1] == '-' && rs[j+2] != ']' {
					hi := rs[j+2]
					if hi == '`' && j+3 < len(rs) {
						j++
						hi = rs[j+2]
					}
					e.ranges = append(e.ranges, [2]rune{c, hi})
					j += 3
					continue
				}
				e.ranges = append(e.ranges, [2]rune{c, c})
				j++
			}
			if !closed || len(e.ranges) == 0 {
				return nil, fmt.Errorf("%w: %q: unclosed or empty [ at offset %d", ErrBadPattern, pattern, i)
			}
			w = append(w, e)
			i = j
		default:
			w = append(w, wildElem{kind: wildLiteral, r: r})
		}
	}
	return w, nil
}

// Match reports whether s matches the whole pattern, ignoring case.
func (w Pattern) Match(s string) bool {
	rs := make([]rune, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		rs = append(rs, r)
	}
	// Classic backtracking over the last *: linear for patterns with one *,
	// O(len(w)*len(s)) at worst.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(rs) {
		if pi < len(w) && w[pi].kind != wildAny && w[pi].matches(rs[si]) {
			pi++
			si++
			continue
		}
		if pi < len(w) && w[pi].kind == wildAny {
			star, mark = pi, si
			pi++
			continue
		}
		if star >= 0 {
			pi = star + 1
			mark++
			si = mark
			continue
		}
		return false
	}
	for pi < len(w) && w[pi].kind == wildAny {
		pi++
	}
	return pi == len(w)
}

// Match compiles pattern and matches s against it.
func Match(pattern, s string) (bool, error) {
	w, err := Compile(pattern)
	if err != nil {
		return false, err
	}
	return w.Match(s), nil
}

// HasWildcards reports whether pattern has a wildcard character (*, ? or
// [), as PowerShell's WildcardPattern.ContainsWildcardCharacters does, so
// that callers can tell a name from a pattern.
func HasWildcards(pattern string) bool {
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '`':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// matches reports whether one non-* element matches r, ignoring case.
func (e wildElem) matches(r rune) bool {
	switch e.kind {
	case wildOne:
		return true
	case wildLiteral:
		return foldEq(e.r, r)
	case wildSet:
		for _, rg := range e.ranges {
			for _, c := range caseVariants(r) {
				if c >= rg[0] && c <= rg[1] {
					return true
				}
			}
		}
	}
	return false
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for c := unicode.SimpleFold(a); c != a; c = unicode.SimpleFold(c) {
		if c == b {
			return true
		}
	}
	return false
}

// caseVariants returns r and the characters it folds to.
func caseVariants(r rune) []rune {
	out := []rune{r}
	for c := unicode.SimpleFold(r); c != r; c = unicode.SimpleFold(c) {
		out = append(out, c)
	}
	return out
}
