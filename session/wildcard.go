package session

import (
	"strings"
	"unicode"
)

// wildcard is a PowerShell wildcard pattern (WildcardPattern with
// IgnoreCase): * any run, ? one character, [abc] and [a-z] one of a set,
// and the backtick escaping the next character.
type wildcard struct{ elems []wildElem }

type wildElem struct {
	kind   byte // 'c' literal, '?' any, '*' run, '[' set
	r      rune
	ranges [][2]rune
}

// compileWildcard parses a pattern; an unclosed [ is an *OptionError.
func compileWildcard(p string) (wildcard, error) {
	var w wildcard
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '`':
			if i+1 < len(rs) {
				i++
			}
			w.elems = append(w.elems, wildElem{kind: 'c', r: unicode.ToLower(rs[i])})
		case '*':
			if n := len(w.elems); n == 0 || w.elems[n-1].kind != '*' {
				w.elems = append(w.elems, wildElem{kind: '*'})
			}
		case '?':
			w.elems = append(w.elems, wildElem{kind: '?'})
		case '[':
			e := wildElem{kind: '['}
			j := i + 1
			for ; j < len(rs) && rs[j] != ']'; j++ {
				c := rs[j]
				if c == '`' && j+1 < len(rs) {
					j++
					c = rs[j]
				}
				lo, hi := unicode.ToLower(c), unicode.ToLower(c)
				if j+2 < len(rs) && rs[j+1] == '-' && rs[j+2] != ']' {
					hi = unicode.ToLower(rs[j+2])
					j += 2
				}
				e.ranges = append(e.ranges, [2]rune{lo, hi})
			}
			if j >= len(rs) {
				return w, &OptionError{Field: "Name", Msg: "wildcard pattern " + p + " has an unclosed ["}
			}
			i = j
			w.elems = append(w.elems, e)
		default:
			w.elems = append(w.elems, wildElem{kind: 'c', r: unicode.ToLower(r)})
		}
	}
	return w, nil
}

// match reports whether s matches, ignoring case.
func (w wildcard) match(s string) bool {
	return matchElems(w.elems, []rune(strings.ToLower(s)))
}

// matchElems matches with the two-pointer method: on a mismatch it
// returns to the last * and lets it take one more character, which bounds
// the work by len(es) × len(s) (no exponential backtracking on patterns
// such as *a*a*a*b).
func matchElems(es []wildElem, s []rune) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(es) && es[pi].kind == '*' {
			star, mark = pi, si
			pi++
			continue
		}
		if pi < len(es) && es[pi].matches(s[si]) {
			pi++
			si++
			continue
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		mark++
		si = mark
	}
	for pi < len(es) && es[pi].kind == '*' {
		pi++
	}
	return pi == len(es)
}

// matches reports whether one non-* element matches r.
func (e wildElem) matches(r rune) bool {
	switch e.kind {
	case '?':
		return true
	case 'c':
		return r == e.r
	case '[':
		for _, rg := range e.ranges {
			if r >= rg[0] && r <= rg[1] {
				return true
			}
		}
	}
	return false
}
