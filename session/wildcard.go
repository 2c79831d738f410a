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

func matchElems(es []wildElem, s []rune) bool {
	for len(es) > 0 {
		e := es[0]
		if e.kind == '*' {
			for i := 0; i <= len(s); i++ {
				if matchElems(es[1:], s[i:]) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 {
			return false
		}
		switch e.kind {
		case 'c':
			if s[0] != e.r {
				return false
			}
		case '[':
			in := false
			for _, rg := range e.ranges {
				if s[0] >= rg[0] && s[0] <= rg[1] {
					in = true
				}
			}
			if !in {
				return false
			}
		}
		es, s = es[1:], s[1:]
	}
	return len(s) == 0
}
