package wsmantest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Lexer of the built-in script subset (see builtin.go). It produces a flat
// token list; the parser gives tokens their meaning by position (expression
// or argument), as PowerShell's two parsing modes do in the cases the subset
// covers.

type tokKind int

const (
	tkEOF     tokKind = iota
	tkNewline         // a newline: statement separator
	tkSemi            // ;
	tkPipe            // |
	tkLBrace          // {
	tkRBrace          // }
	tkComma           // ,
	tkAssign          // =
	tkString          // a quoted string; parts holds its pieces
	tkVar             // $name, ${name}; text holds the name
	tkWord            // a bare word: command names, parameters, numbers, bare arguments
	tkParen           // ( or ): outside the subset
)

// strPart is a piece of a double-quoted string: literal text, or a variable
// to expand when isVar is true.
type strPart struct {
	text  string
	isVar bool
}

type token struct {
	kind  tokKind
	text  string    // word text or variable name
	parts []strPart // tkString
	pos   int       // byte offset in the script
	space bool      // white space (or the start of the script) precedes the token
}

// syntaxError is a script PowerShell itself rejects; errorID is the
// ParseException's FullyQualifiedErrorId.
type syntaxError struct {
	errorID string
	msg     string
	pos     int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at offset %d)", e.msg, e.pos) }

// unsupportedError is valid PowerShell outside the built-in subset.
type unsupportedError struct {
	what string
	pos  int
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("wsmantest built-ins: %s is not supported (at offset %d)", e.what, e.pos)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

// wordEnd reports whether c ends a bare word.
func wordEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\f', '\v', '\n', ';', '|', '{', '}', '(', ')', ',', '\'', '"', '$', '=', '`':
		return true
	}
	return false
}

func isVarChar(c byte) bool {
	return c == '_' || c == '?' || c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// lex splits a script into tokens. It stops after maxTokens tokens.
func lex(src string, maxTokens int) ([]token, error) {
	var toks []token
	i := 0
	space := true
	for {
		if len(toks) > maxTokens {
			return nil, &limitError{what: fmt.Sprintf("more than %d tokens", maxTokens)}
		}
		// white space, comments and line continuations
		for i < len(src) {
			c := src[i]
			switch {
			case isSpace(c):
				i++
				space = true
				continue
			case c == '`' && i+1 < len(src) && (src[i+1] == '\n' || (src[i+1] == '\r' && i+2 < len(src) && src[i+2] == '\n')):
				i += 2
				if src[i-1] == '\r' {
					i++
				}
				space = true
				continue
			case c == '#' && space:
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			case c == '<' && i+1 < len(src) && src[i+1] == '#':
				end := strings.Index(src[i+2:], "#>")
				if end < 0 {
					return nil, &syntaxError{errorID: "MissingEndOfComment", msg: "The string is missing the terminator: #>.", pos: i}
				}
				i += 2 + end + 2
				space = true
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tkEOF, pos: i, space: true})
			return toks, nil
		}
		start := i
		c := src[i]
		t := token{pos: start, space: space}
		space = false
		switch c {
		case '\n':
			t.kind = tkNewline
			i++
			space = true
		case ';':
			t.kind = tkSemi
			i++
			space = true
		case '|':
			if i+1 < len(src) && src[i+1] == '|' {
				return nil, &unsupportedError{what: "the || operator", pos: i}
			}
			t.kind = tkPipe
			i++
			space = true
		case '{':
			t.kind = tkLBrace
			i++
			space = true
		case '}':
			t.kind = tkRBrace
			i++
		case ',':
			t.kind = tkComma
			i++
			space = true
		case '=':
			t.kind = tkAssign
			i++
			space = true
		case '(', ')':
			t.kind = tkParen
			i++
		case '\'':
			s, n, err := lexSingle(src, i)
			if err != nil {
				return nil, err
			}
			t.kind, t.parts, i = tkString, []strPart{{text: s}}, n
		case '"':
			parts, n, err := lexDouble(src, i)
			if err != nil {
				return nil, err
			}
			t.kind, t.parts, i = tkString, parts, n
		case '$':
			name, n, err := lexVar(src, i)
			if err != nil {
				return nil, err
			}
			t.kind, t.text, i = tkVar, name, n
		case '`':
			return nil, &unsupportedError{what: "an escape character outside a string", pos: i}
		default:
			for i < len(src) && !wordEnd(src[i]) {
				_, size := utf8.DecodeRuneInString(src[i:])
				i += size
			}
			t.kind, t.text = tkWord, src[start:i]
		}
		toks = append(toks, t)
	}
}

// lexSingle reads a single-quoted string starting at src[i] == '\”.
func lexSingle(src string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		if src[j] == '\'' {
			if j+1 < len(src) && src[j+1] == '\'' {
				b.WriteByte('\'')
				j += 2
				continue
			}
			return b.String(), j + 1, nil
		}
		b.WriteByte(src[j])
		j++
	}
	return "", 0, &syntaxError{errorID: "TerminatorExpectedAtEndOfString", msg: "The string is missing the terminator: '.", pos: i}
}

// lexDouble reads a double-quoted (expandable) string starting at
// src[i] == '"'.
func lexDouble(src string, i int) ([]strPart, int, error) {
	var parts []strPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, strPart{text: b.String()})
			b.Reset()
		}
	}
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == '"':
			if j+1 < len(src) && src[j+1] == '"' {
				b.WriteByte('"')
				j += 2
				continue
			}
			flush()
			if parts == nil {
				parts = []strPart{{text: ""}}
			}
			return parts, j + 1, nil
		case c == '`' && j+1 < len(src):
			j++
			switch src[j] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '0':
				b.WriteByte(0)
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'e':
				b.WriteByte(0x1b)
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			default:
				// `" `$ `` and any other character stand for themselves.
				_, size := utf8.DecodeRuneInString(src[j:])
				b.WriteString(src[j : j+size])
				j += size
				continue
			}
			j++
		case c == '$' && j+1 < len(src) && src[j+1] == '(':
			return nil, 0, &unsupportedError{what: "a $( ) subexpression", pos: j}
		case c == '$' && j+1 < len(src) && (isVarChar(src[j+1]) || src[j+1] == '{') && src[j+1] != ':' && src[j+1] != '?':
			name, n, err := lexVar(src, j)
			if err != nil {
				return nil, 0, err
			}
			flush()
			parts = append(parts, strPart{text: name, isVar: true})
			j = n
		default:
			b.WriteByte(c)
			j++
		}
	}
	return nil, 0, &syntaxError{errorID: "TerminatorExpectedAtEndOfString", msg: "The string is missing the terminator: \".", pos: i}
}

// lexVar reads $name or ${name} starting at src[i] == '$'.
func lexVar(src string, i int) (string, int, error) {
	j := i + 1
	if j < len(src) && src[j] == '{' {
		end := strings.IndexByte(src[j:], '}')
		if end < 0 {
			return "", 0, &syntaxError{errorID: "IncompleteDollarVariableReference", msg: "Incomplete variable reference token.", pos: i}
		}
		name := src[j+1 : j+end]
		if name == "" {
			return "", 0, &syntaxError{errorID: "EmptyVariableReference", msg: "Empty ${} variable reference, there should be a name between the braces.", pos: i}
		}
		return name, j + end + 1, nil
	}
	if j < len(src) && src[j] == '(' {
		return "", 0, &unsupportedError{what: "a $( ) subexpression", pos: i}
	}
	for j < len(src) && isVarChar(src[j]) {
		j++
	}
	name := src[i+1 : j]
	if name == "" {
		return "", 0, &unsupportedError{what: "a bare $", pos: i}
	}
	if strings.ContainsAny(name, ":?") && name != "?" {
		return "", 0, &unsupportedError{what: "scoped or drive-qualified variables", pos: i}
	}
	return name, j, nil
}
