package clixml

import (
	"errors"
	"unicode/utf8"
)

// errInvalidUTF8 is returned when a string to encode is not valid UTF-8
// (lone surrogates in the WTF-8 form produced by DecodeString excepted).
var errInvalidUTF8 = errors.New("string is not valid UTF-8")

const hexUpper = "0123456789ABCDEF"

// DecodeString undoes the _xHHHH_ escaping CLIXML applies to strings and
// property names (MS-PSRP 2.2.5.1.1): each _xHHHH_ (hexadecimal in either
// case) becomes the UTF-16 code unit HHHH. A high and a low surrogate escape
// in sequence become one character. A lone surrogate, which UTF-8 cannot
// express, is kept in its generalized UTF-8 ("WTF-8") form, three bytes
// starting with 0xED, so that EncodeString restores the same escape.
// Text that is not a complete escape is kept as is. Escapes with eight hex
// digits are not recognized.
func DecodeString(s string) string {
	if indexEscape(s, 0) < 0 {
		return s
	}
	return string(appendDecoded(make([]byte, 0, len(s)), []byte(s)))
}

// appendDecoded appends b with its _xHHHH_ escapes undone (see
// DecodeString).
func appendDecoded[T string | []byte](dst []byte, b T) []byte {
	s := b
	i := indexEscape(s, 0)
	last := 0
	for i >= 0 {
		u, _ := parseEscape(s, i)
		dst = append(dst, s[last:i]...)
		i += 7
		if u >= 0xD800 && u <= 0xDBFF {
			if lo, ok := parseEscape(s, i); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				dst = utf8.AppendRune(dst, 0x10000+(rune(u)-0xD800)<<10+(rune(lo)-0xDC00))
				i += 7
				last = i
				i = indexEscape(s, i)
				continue
			}
		}
		dst = appendCodeUnit(dst, u)
		last = i
		i = indexEscape(s, i)
	}
	return append(dst, s[last:]...)
}

// appendCodeUnit appends one UTF-16 code unit as UTF-8, or as WTF-8 when it
// is a surrogate.
func appendCodeUnit(b []byte, u uint16) []byte {
	if u >= 0xD800 && u <= 0xDFFF {
		return append(b, 0xE0|byte(u>>12), 0x80|byte(u>>6)&0x3F, 0x80|byte(u)&0x3F)
	}
	return utf8.AppendRune(b, rune(u))
}

// indexEscape returns the index of the first complete _xHHHH_ escape in s at
// or after from, or -1.
func indexEscape[T string | []byte](s T, from int) int {
	for i := from; i+7 <= len(s); i++ {
		if s[i] == '_' {
			if _, ok := parseEscape(s, i); ok {
				return i
			}
		}
	}
	return -1
}

// parseEscape parses an _xHHHH_ escape at s[i:].
func parseEscape[T string | []byte](s T, i int) (uint16, bool) {
	if i+7 > len(s) || s[i] != '_' || s[i+1] != 'x' || s[i+6] != '_' {
		return 0, false
	}
	var u uint16
	for k := i + 2; k < i+6; k++ {
		c := s[k]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		u = u<<4 | uint16(d)
	}
	return u, true
}

// EncodeString applies the _xHHHH_ escaping of CLIXML strings the way
// PowerShell does: C0 controls (U+0000–U+001F), DEL and C1 controls
// (U+007F–U+009F), every UTF-16 surrogate code unit (so a character beyond
// the BMP becomes two escapes) and "_" followed by "x" or "X" are escaped
// with upper-case hex; U+FFFE and U+FFFF, which XML cannot carry, are escaped
// too. It does not XML-escape. Lone surrogates in WTF-8 form (see
// DecodeString) are escaped; any other invalid UTF-8 is an error.
func EncodeString(s string) (string, error) {
	if !needsEscape(s) {
		return s, nil
	}
	b, err := appendEscaped(make([]byte, 0, len(s)+16), s, 0)
	return string(b), err
}

// needsEscape reports whether s needs _xHHHH_ escaping (or is invalid).
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7F || c >= 0x80 || (c == '_' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X')) {
			return true
		}
	}
	return false
}

// XML escaping modes for appendEscaped.
const (
	xmlNone = iota // only _xHHHH_ escaping
	xmlText        // also &, <, >
	xmlAttr        // also &, <, >, "
)

func appendUnitEscape(b []byte, u uint16) []byte {
	return append(b, '_', 'x', hexUpper[u>>12], hexUpper[u>>8&0xF], hexUpper[u>>4&0xF], hexUpper[u&0xF], '_')
}

// appendEscaped appends s with _xHHHH_ escaping and, per mode, XML escaping.
func appendEscaped(b []byte, s string, mode int) ([]byte, error) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c < 0x20 || c == 0x7F:
				b = append(b, s[last:i]...)
				b = appendUnitEscape(b, uint16(c))
			case c == '_' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
				b = append(b, s[last:i]...)
				b = append(b, "_x005F_"...)
			case mode != xmlNone && c == '&':
				b = append(b, s[last:i]...)
				b = append(b, "&amp;"...)
			case mode != xmlNone && c == '<':
				b = append(b, s[last:i]...)
				b = append(b, "&lt;"...)
			case mode != xmlNone && c == '>':
				b = append(b, s[last:i]...)
				b = append(b, "&gt;"...)
			case mode == xmlAttr && c == '"':
				b = append(b, s[last:i]...)
				b = append(b, "&quot;"...)
			default:
				i++
				continue
			}
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			if i+2 < len(s) && c == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
				u := uint16(c&0x0F)<<12 | uint16(s[i+1]&0x3F)<<6 | uint16(s[i+2]&0x3F)
				b = append(b, s[last:i]...)
				b = appendUnitEscape(b, u)
				i += 3
				last = i
				continue
			}
			return b, errInvalidUTF8
		case r <= 0x9F:
			b = append(b, s[last:i]...)
			b = appendUnitEscape(b, uint16(r))
		case r == 0xFFFE || r == 0xFFFF:
			b = append(b, s[last:i]...)
			b = appendUnitEscape(b, uint16(r))
		case r > 0xFFFF:
			r -= 0x10000
			b = append(b, s[last:i]...)
			b = appendUnitEscape(b, uint16(0xD800+(r>>10)))
			b = appendUnitEscape(b, uint16(0xDC00+(r&0x3FF)))
		default:
			i += size
			continue
		}
		i += size
		last = i
	}
	return append(b, s[last:]...), nil
}
