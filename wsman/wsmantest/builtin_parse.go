package wsmantest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// Parser of the built-in script subset: statements separated by ; and
// newlines; a statement is an assignment to a variable or a pipeline; a
// pipeline's first element is an expression or a command, the others are
// commands; a command is a name followed by parameters and arguments, which
// may be script blocks.

// limitError is a script over one of the built-ins' limits.
type limitError struct{ what string }

func (e *limitError) Error() string { return "wsmantest built-ins: script exceeds a limit: " + e.what }

type (
	bScript struct{ stmts []*bStmt }

	bStmt struct {
		assign string // variable assigned, "" for a plain pipeline
		pipe   *bPipeline
		pos    int
	}

	bPipeline struct{ elems []*bElem }

	// bElem is one pipeline element: an expression (first element only)
	// or a command.
	bElem struct {
		expr bExpr
		cmd  *bCommand
	}

	bCommand struct {
		name string
		args []bArg
		pos  int
	}

	// bArg is one command argument: a parameter name (param != "", with
	// an attached value after a colon when value != nil) or a value.
	bArg struct {
		param string
		value bExpr
	}
)

// bExpr is an expression: bLit, bStr, bVar, bRange, bList or bBlock.
type bExpr interface{}

type (
	bLit   struct{ v clixml.Value }
	bStr   struct{ parts []strPart }
	bVar   struct{ name string }
	bRange struct{ from, to bExpr }
	bList  struct{ items []bExpr }
	bBlock struct {
		script *bScript
		text   string
	}
)

// Keywords of the PowerShell language: a statement starting with one of
// them is outside the subset. "foreach" is left out: after a "|" it is the
// alias of ForEach-Object, and the foreach statement is still refused by
// its parentheses.
var psKeywords = map[string]bool{
	"begin": true, "break": true, "catch": true, "class": true, "continue": true, "data": true, "define": true,
	"do": true, "dynamicparam": true, "else": true, "elseif": true, "end": true, "enum": true, "exit": true,
	"filter": true, "finally": true, "for": true, "from": true, "function": true, "hidden": true,
	"if": true, "in": true, "param": true, "process": true, "return": true, "static": true, "switch": true,
	"throw": true, "trap": true, "try": true, "until": true, "using": true, "var": true, "while": true,
	"workflow": true, "parallel": true, "sequence": true, "inlinescript": true,
}

var (
	intRe   = regexp.MustCompile(`^-?[0-9]+$`)
	floatRe = regexp.MustCompile(`^-?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$`)
	rangeRe = regexp.MustCompile(`^(-?[0-9]+)\.\.(-?[0-9]+)?$`)
)

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	lim   builtinLimits
}

// parseScript parses a whole script.
func parseScript(src string, lim builtinLimits) (*bScript, error) {
	if len(src) > lim.maxScriptLength {
		return nil, &limitError{what: fmt.Sprintf("script of %d bytes, limit %d", len(src), lim.maxScriptLength)}
	}
	toks, err := lex(src, lim.maxTokens)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, lim: lim}
	s, err := p.script(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		if t.kind == tkRBrace {
			return nil, &syntaxError{errorID: "UnexpectedToken", msg: "Unexpected token '}' in expression or statement.", pos: t.pos}
		}
		return nil, &syntaxError{errorID: "UnexpectedToken", msg: "Unexpected token in expression or statement.", pos: t.pos}
	}
	return s, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// script parses statements until EOF, or until } when inBlock.
func (p *parser) script(inBlock bool) (*bScript, error) {
	s := &bScript{}
	for {
		t := p.peek()
		switch t.kind {
		case tkEOF:
			if inBlock {
				return nil, &syntaxError{errorID: "MissingEndCurlyBrace", msg: "Missing closing '}' in statement block or type definition.", pos: t.pos}
			}
			return s, nil
		case tkRBrace:
			if inBlock {
				return s, nil
			}
			return s, nil // parseScript reports the stray }
		case tkNewline, tkSemi:
			p.next()
			continue
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		s.stmts = append(s.stmts, st)
		switch t := p.peek(); t.kind {
		case tkNewline, tkSemi, tkEOF, tkRBrace:
		case tkWord, tkParen, tkAssign, tkLBrace:
			// an operator, member access, index ... after an expression
			return nil, &unsupportedError{what: "the operator or token '" + p.src[t.pos:min(len(p.src), t.pos+10)] + "'", pos: t.pos}
		default:
			return nil, &syntaxError{errorID: "UnexpectedToken", msg: "Unexpected token in expression or statement.", pos: t.pos}
		}
	}
}

func (p *parser) statement() (*bStmt, error) {
	t := p.peek()
	st := &bStmt{pos: t.pos}
	if t.kind == tkWord && psKeywords[strings.ToLower(t.text)] {
		return nil, &unsupportedError{what: "the '" + t.text + "' statement", pos: t.pos}
	}
	if t.kind == tkVar && p.toks[p.i+1].kind == tkAssign {
		p.next()
		p.next()
		st.assign = t.text
		if k := p.peek().kind; k == tkNewline || k == tkSemi || k == tkEOF || k == tkRBrace {
			return nil, &syntaxError{errorID: "ExpectedValueExpression", msg: "You must provide a value expression following the '=' operator.", pos: p.peek().pos}
		}
	}
	pipe, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	st.pipe = pipe
	return st, nil
}

func (p *parser) pipeline() (*bPipeline, error) {
	pl := &bPipeline{}
	for {
		t := p.peek()
		first := len(pl.elems) == 0
		var el *bElem
		switch {
		case t.kind == tkWord && !looksNumeric(t.text) && !(first && strings.HasPrefix(t.text, "-") && len(t.text) > 1):
			cmd, err := p.command()
			if err != nil {
				return nil, err
			}
			el = &bElem{cmd: cmd}
		case t.kind == tkPipe || t.kind == tkNewline || t.kind == tkSemi || t.kind == tkEOF || t.kind == tkRBrace:
			return nil, &syntaxError{errorID: "EmptyPipeElement", msg: "An empty pipe element is not allowed.", pos: t.pos}
		case t.kind == tkParen:
			return nil, &unsupportedError{what: "parentheses", pos: t.pos}
		case t.kind == tkAssign:
			return nil, &unsupportedError{what: "this assignment", pos: t.pos}
		default:
			if !first {
				return nil, &syntaxError{errorID: "ExpressionsMustBeFirstInPipeline", msg: "Expressions are only allowed as the first element of a pipeline.", pos: t.pos}
			}
			e, err := p.listExpr(true)
			if err != nil {
				return nil, err
			}
			el = &bElem{expr: e}
		}
		pl.elems = append(pl.elems, el)
		if p.peek().kind != tkPipe {
			return pl, nil
		}
		p.next()
		for p.peek().kind == tkNewline { // a pipeline continues after | and a newline
			p.next()
		}
	}
}

func looksNumeric(s string) bool {
	return floatRe.MatchString(s) || rangeRe.MatchString(s)
}

// listExpr parses a comma-separated list of primaries (a single primary is
// returned as is). exprMode is true in expression position, where a word
// like 1..5 is a range; in argument position it is text.
func (p *parser) listExpr(exprMode bool) (bExpr, error) {
	var items []bExpr
	for {
		e, err := p.primary(exprMode)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if p.peek().kind != tkComma {
			break
		}
		p.next()
		for p.peek().kind == tkNewline {
			p.next()
		}
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return bList{items: items}, nil
}

func (p *parser) primary(exprMode bool) (bExpr, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return bStr{parts: t.parts}, nil
	case tkVar:
		v := bVar{name: t.text}
		// $a..5 / $a..$b in expression mode
		if exprMode {
			if n := p.peek(); n.kind == tkWord && !n.space && strings.HasPrefix(n.text, "..") {
				p.next()
				rest := n.text[2:]
				if rest == "" {
					to, err := p.rangeEnd()
					if err != nil {
						return nil, err
					}
					return bRange{from: v, to: to}, nil
				}
				if !intRe.MatchString(rest) {
					return nil, &unsupportedError{what: "this range operand", pos: n.pos}
				}
				to, _ := numberValue(rest)
				return bRange{from: v, to: bLit{v: to}}, nil
			}
		}
		return v, nil
	case tkLBrace:
		return p.block(t)
	case tkWord:
		if exprMode {
			if m := rangeRe.FindStringSubmatch(t.text); m != nil {
				from, _ := numberValue(m[1])
				if m[2] != "" {
					to, _ := numberValue(m[2])
					return bRange{from: bLit{v: from}, to: bLit{v: to}}, nil
				}
				to, err := p.rangeEnd()
				if err != nil {
					return nil, err
				}
				return bRange{from: bLit{v: from}, to: to}, nil
			}
			if v, ok := numberValue(t.text); ok {
				return bLit{v: v}, nil
			}
			return nil, &unsupportedError{what: "the expression '" + t.text + "'", pos: t.pos}
		}
		if v, ok := numberValue(t.text); ok {
			return bLit{v: v}, nil
		}
		return bLit{v: clixml.String(t.text)}, nil
	case tkParen:
		return nil, &unsupportedError{what: "parentheses", pos: t.pos}
	}
	return nil, &syntaxError{errorID: "ExpectedExpression", msg: "An expression was expected.", pos: t.pos}
}

// rangeEnd parses the operand after a trailing "..": a variable or a number
// directly attached.
func (p *parser) rangeEnd() (bExpr, error) {
	n := p.peek()
	if n.space {
		return nil, &unsupportedError{what: "a range with spaces", pos: n.pos}
	}
	switch n.kind {
	case tkVar:
		p.next()
		return bVar{name: n.text}, nil
	}
	return nil, &syntaxError{errorID: "ExpectedValueExpression", msg: "You must provide a value expression following the '..' operator.", pos: n.pos}
}

func (p *parser) block(open token) (bExpr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > p.lim.maxDepth {
		return nil, &limitError{what: fmt.Sprintf("script blocks nested deeper than %d", p.lim.maxDepth)}
	}
	s, err := p.script(true)
	if err != nil {
		return nil, err
	}
	end := p.next() // the }
	return bBlock{script: s, text: p.src[open.pos+1 : end.pos]}, nil
}

// command parses a command name and its arguments.
func (p *parser) command() (*bCommand, error) {
	name := p.next()
	c := &bCommand{name: name.text, pos: name.pos}
	for {
		t := p.peek()
		switch t.kind {
		case tkNewline, tkSemi, tkPipe, tkEOF, tkRBrace:
			return c, nil
		case tkAssign:
			return nil, &unsupportedError{what: "'=' in command arguments", pos: t.pos}
		case tkWord:
			if len(t.text) > 1 && t.text[0] == '-' && !looksNumeric(t.text) {
				p.next()
				pname := t.text[1:]
				if strings.HasSuffix(pname, ":") {
					// -Name:value
					pname = strings.TrimSuffix(pname, ":")
					v := p.peek()
					if v.space || v.kind == tkNewline || v.kind == tkSemi || v.kind == tkPipe || v.kind == tkEOF || v.kind == tkRBrace {
						return nil, &syntaxError{errorID: "ParameterRequiresArgument", msg: "Missing an argument for parameter '" + pname + "'.", pos: v.pos}
					}
					e, err := p.listExpr(false)
					if err != nil {
						return nil, err
					}
					c.args = append(c.args, bArg{param: pname, value: e})
					continue
				}
				c.args = append(c.args, bArg{param: pname})
				continue
			}
		}
		e, err := p.listExpr(false)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, bArg{value: e})
	}
}

// numberValue converts a numeric literal the way PowerShell types it:
// Int32, else Int64, else Double.
func numberValue(s string) (clixml.Value, bool) {
	if intRe.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return clixml.Int32(n), true
			}
			return clixml.Int64(n), true
		}
	}
	if floatRe.MatchString(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return clixml.Float64(f), true
		}
	}
	return nil, false
}
