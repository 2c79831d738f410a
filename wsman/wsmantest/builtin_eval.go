package wsmantest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// Interpreter of the built-in script subset.

// scriptHost is what the interpreter needs from the server: an *Invocation
// (through invocationHost) or a recorder in tests.
type scriptHost interface {
	Context() context.Context
	WriteOutput(values ...clixml.Value) error
	WriteError(rec *ErrorRecord) error
	WriteWarning(msg string) error
	WriteVerbose(msg string) error
	WriteDebug(msg string) error
	WriteInformation(rec *InformationRecord) error
	WriteProgress(rec *ProgressRecord) error
	// ReadInput returns the next pipeline input value, io.EOF at the end.
	ReadInput() (clixml.Value, error)
	Sleep(d time.Duration) error
	Now() time.Time
	// HostCall calls a method of the client's host (Read-Host).
	HostCall(call HostCall) (clixml.Value, error)
}

// invocationHost adapts an *Invocation to scriptHost.
type invocationHost struct{ *Invocation }

func (h invocationHost) Now() time.Time { return h.Clock().Now() }

type emitFn func(v clixml.Value) error

// terminatingError ends the whole script: the pipeline fails with rec.
type terminatingError struct{ rec *ErrorRecord }

func (e *terminatingError) Error() string { return e.rec.Message }

// statementError ends one statement: rec is written to the error stream
// (subject to $ErrorActionPreference) and the script goes on.
type statementError struct{ rec *ErrorRecord }

func (e *statementError) Error() string { return e.rec.Message }

// actionPreference is System.Management.Automation.ActionPreference.
type actionPreference int

const (
	prefSilentlyContinue actionPreference = iota
	prefStop
	prefContinue
	prefInquire
	prefIgnore
)

func parsePreference(v clixml.Value) (actionPreference, bool) {
	switch x := v.(type) {
	case clixml.Int32:
		switch x {
		case 0:
			return prefSilentlyContinue, true
		case 1:
			return prefStop, true
		case 2:
			return prefContinue, true
		case 3:
			return prefInquire, true
		case 4:
			return prefIgnore, true
		}
		return 0, false
	}
	switch strings.ToLower(toText(v)) {
	case "silentlycontinue":
		return prefSilentlyContinue, true
	case "stop":
		return prefStop, true
	case "continue":
		return prefContinue, true
	case "inquire":
		return prefInquire, true
	case "ignore":
		return prefIgnore, true
	}
	return 0, false
}

// interp runs one script.
type interp struct {
	host  scriptHost
	ctx   context.Context
	lim   builtinLimits
	vars  map[string]clixml.Value // lower-case names; $_ is "_"
	steps int
	depth int // scripts being run, nested
	// textBytes counts the bytes of strings the script made
	textBytes int
	// commands is set for a pipeline sent as commands (AddCommand): an
	// error that ends a statement fails the pipeline (see runBuiltinMode).
	commands bool
	// emptyVars are the variables assigned from a pipeline that wrote
	// nothing: they hold "AutomationNull", which is $null in expressions but
	// enumerates to nothing in a pipeline ($x = & {}; $x writes nothing),
	// where a real $null is one item ($null writes $null).
	emptyVars map[string]bool
}

func newInterp(host scriptHost, lim builtinLimits) *interp {
	return &interp{host: host, ctx: host.Context(), lim: lim, vars: map[string]clixml.Value{
		"erroractionpreference": clixml.String("Continue"),
		"warningpreference":     clixml.String("Continue"),
		"verbosepreference":     clixml.String("SilentlyContinue"),
		"debugpreference":       clixml.String("SilentlyContinue"),
		"informationpreference": clixml.String("SilentlyContinue"),
		"progresspreference":    clixml.String("Continue"),
		"true":                  clixml.Bool(true),
		"false":                 clixml.Bool(false),
		"null":                  clixml.Nil{},
	}}
}

func (ip *interp) step() error {
	if err := ip.ctx.Err(); err != nil {
		return err
	}
	ip.steps++
	if ip.steps > ip.lim.maxSteps {
		return &limitError{what: fmt.Sprintf("more than %d evaluation steps", ip.lim.maxSteps)}
	}
	return nil
}

// chargeText accounts for n bytes of text made by the script (expanded
// strings, Out-String) against the run's limit, which bounds the memory a
// script can fill by keeping what it makes.
func (ip *interp) chargeText(n int) error {
	ip.textBytes += n
	if ip.textBytes > ip.lim.maxTextBytes {
		return &limitError{what: fmt.Sprintf("more than %d bytes of strings made", ip.lim.maxTextBytes)}
	}
	return nil
}

func (ip *interp) pref(name string) actionPreference {
	p, ok := parsePreference(ip.vars[name])
	if !ok {
		return prefContinue
	}
	return p
}

// runScript runs the statements of s, sending pipeline output to out.
func (ip *interp) runScript(s *bScript, out emitFn) error {
	// Script blocks and Invoke-Expression nest scripts at run time; bound
	// the depth so that a script invoking itself cannot exhaust the stack.
	ip.depth++
	defer func() { ip.depth-- }()
	if ip.depth > ip.lim.maxDepth {
		return &limitError{what: fmt.Sprintf("scripts nested deeper than %d at run time", ip.lim.maxDepth)}
	}
	for _, st := range s.stmts {
		if err := ip.step(); err != nil {
			return err
		}
		err := ip.runStatement(st, out)
		var se *statementError
		if errors.As(err, &se) && !ip.commands {
			err = ip.writeError(se.rec, ip.pref("erroractionpreference"))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeError writes a non-terminating error under the given preference.
func (ip *interp) writeError(rec *ErrorRecord, p actionPreference) error {
	switch p {
	case prefStop:
		return &terminatingError{rec: rec}
	case prefSilentlyContinue, prefIgnore:
		return nil
	}
	return ip.host.WriteError(rec)
}

func (ip *interp) runStatement(st *bStmt, out emitFn) error {
	if st.assign == "" {
		return ip.runPipeline(st.pipe, out)
	}
	name := strings.ToLower(st.assign)
	if name == "_" || name == "true" || name == "false" || name == "null" {
		return &statementError{rec: &ErrorRecord{
			Message:               "Cannot overwrite variable " + st.assign + " because it is read-only or constant.",
			ExceptionType:         "System.Management.Automation.SessionStateUnauthorizedAccessException",
			FullyQualifiedErrorID: "VariableNotWritable",
			Category:              ErrorCategory(psrp.ErrorCategoryWriteError),
			CategoryReason:        "SessionStateUnauthorizedAccessException",
			TargetName:            st.assign, TargetType: "String", TargetObject: clixml.String(st.assign),
		}}
	}
	if len(st.pipe.elems) == 1 && st.pipe.elems[0].expr != nil {
		// $x = <expression>: the value as it is ($a,$b stays a list of
		// two, whatever $a and $b hold).
		v, err := ip.eval(st.pipe.elems[0].expr)
		if err != nil {
			return err
		}
		ip.vars[name] = v
		ip.setEmpty(name, ip.isEmptyVar(st.pipe.elems[0].expr))
		return nil
	}
	var got []clixml.Value
	err := ip.runPipeline(st.pipe, func(v clixml.Value) error {
		if len(got) >= ip.lim.maxRangeItems {
			return &limitError{what: fmt.Sprintf("a variable holding more than %d items", ip.lim.maxRangeItems)}
		}
		got = append(got, v)
		return nil
	})
	if err != nil {
		return err
	}
	ip.setEmpty(name, len(got) == 0)
	switch len(got) {
	case 0:
		ip.vars[name] = clixml.Nil{}
	case 1:
		ip.vars[name] = got[0]
	default:
		ip.vars[name] = listValue(got)
	}
	return nil
}

// listValue is an Object[] as PowerShell collects several outputs.
func listValue(items []clixml.Value) *clixml.Object {
	return &clixml.Object{TypeNames: []string{"System.Object[]", "System.Array", "System.Object"}, Kind: clixml.List, Items: items}
}

// items enumerates a value as PowerShell's pipeline does: the items of a
// list, or the value itself.
func items(v clixml.Value) []clixml.Value {
	if o, ok := v.(*clixml.Object); ok && (o.Kind == clixml.List || o.Kind == clixml.Enumerable) {
		return o.Items
	}
	return []clixml.Value{v}
}

// processor is a pipeline element after the first.
type processor interface {
	process(in clixml.Value) error
	end() error
}

func (ip *interp) runPipeline(pl *bPipeline, out emitFn) error {
	// PowerShell resolves the commands of a pipeline first to last before
	// running any: the first unknown one is the one reported.
	for _, el := range pl.elems {
		if el.cmd != nil && lookupCmdlet(el.cmd.name) == nil {
			return &statementError{rec: CommandNotFoundError(el.cmd.name)}
		}
	}
	// Build the elements after the first from the end, each emitting to
	// the next.
	emit := out
	procs := make([]processor, len(pl.elems))
	for k := len(pl.elems) - 1; k >= 1; k-- {
		p, err := ip.startCommand(pl.elems[k].cmd, emit, true)
		if err != nil {
			return err
		}
		procs[k] = p
		emit = p.process
	}
	first := pl.elems[0]
	if first.expr != nil {
		if err := ip.emitExpr(first.expr, emit); err != nil {
			return err
		}
	} else {
		p, err := ip.startCommand(first.cmd, emit, false)
		if err != nil {
			return err
		}
		if err := p.process(nil); err != nil {
			return err
		}
		if err := p.end(); err != nil {
			return err
		}
	}
	for k := 1; k < len(procs); k++ {
		if err := procs[k].end(); err != nil {
			return err
		}
	}
	return nil
}

// emitExpr sends the items of an expression down the pipeline; ranges are
// enumerated lazily.
func (ip *interp) emitExpr(e bExpr, emit emitFn) error {
	switch x := e.(type) {
	case bScriptExpr:
		return ip.runScript(x.s, emit)
	case bVar:
		if strings.EqualFold(x.name, "input") {
			// $input: the pipeline input, read as it arrives.
			for {
				v, err := ip.host.ReadInput()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := ip.step(); err != nil {
					return err
				}
				if err := emit(v); err != nil {
					return err
				}
			}
		}
	case bRange:
		from, to, err := ip.rangeBounds(x)
		if err != nil {
			return err
		}
		stepv := int64(1)
		if to < from {
			stepv = -1
		}
		for n := from; ; n += stepv {
			if err := ip.step(); err != nil {
				return err
			}
			if err := emit(clixml.Int32(n)); err != nil {
				return err
			}
			if n == to {
				return nil
			}
		}
	case bList:
		for _, it := range x.items {
			if err := ip.emitExpr(it, emit); err != nil {
				return err
			}
		}
		return nil
	}
	if ip.isEmptyVar(e) {
		return nil // AutomationNull enumerates to nothing
	}
	v, err := ip.eval(e)
	if err != nil {
		return err
	}
	// $null (and an unset variable) is one item: PowerShell writes it
	// (@(& {$null}).Count is 1).
	for _, it := range items(v) {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

func (ip *interp) rangeBounds(r bRange) (int64, int64, error) {
	conv := func(e bExpr) (int64, error) {
		v, err := ip.eval(e)
		if err != nil {
			return 0, err
		}
		n, ok := toInt(v)
		if !ok || n < -1<<31 || n > 1<<31-1 {
			return 0, &statementError{rec: &ErrorRecord{
				Message:               fmt.Sprintf("Cannot convert value %q to type \"System.Int32\".", toText(v)),
				ExceptionType:         "System.Management.Automation.RuntimeException",
				FullyQualifiedErrorID: "InvalidCastFromStringToInteger",
				Category:              CategoryInvalidArgument,
				CategoryReason:        "RuntimeException",
			}}
		}
		return n, nil
	}
	from, err := conv(r.from)
	if err != nil {
		return 0, 0, err
	}
	to, err := conv(r.to)
	if err != nil {
		return 0, 0, err
	}
	n := to - from
	if n < 0 {
		n = -n
	}
	if n+1 > int64(ip.lim.maxRangeItems) {
		return 0, 0, &limitError{what: fmt.Sprintf("a range of %d items, limit %d", n+1, ip.lim.maxRangeItems)}
	}
	return from, to, nil
}

// eval evaluates an expression to one value (lists and ranges to an
// Object[]).
func (ip *interp) eval(e bExpr) (clixml.Value, error) {
	switch x := e.(type) {
	case bLit:
		return x.v, nil
	case bAPINull:
		return clixml.Nil{}, nil
	case bStr:
		var b strings.Builder
		for _, p := range x.parts {
			if p.isVar {
				b.WriteString(toText(ip.variable(p.text)))
			} else {
				b.WriteString(p.text)
			}
			if b.Len() > maxTextLen {
				return nil, &limitError{what: fmt.Sprintf("a string longer than %d bytes", maxTextLen)}
			}
		}
		if err := ip.chargeText(b.Len()); err != nil {
			return nil, err
		}
		return clixml.String(b.String()), nil
	case bVar:
		if strings.EqualFold(x.name, "input") {
			var out []clixml.Value
			err := ip.emitExpr(x, func(v clixml.Value) error {
				if len(out) >= ip.lim.maxRangeItems {
					return &limitError{what: fmt.Sprintf("more than %d input items", ip.lim.maxRangeItems)}
				}
				out = append(out, v)
				return nil
			})
			if err != nil {
				return nil, err
			}
			return listValue(out), nil
		}
		return ip.variable(x.name), nil
	case bBlock:
		return clixml.ScriptBlock(x.text), nil
	case bList:
		out := make([]clixml.Value, 0, len(x.items))
		for _, it := range x.items {
			v, err := ip.eval(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return listValue(out), nil
	case bRange:
		var out []clixml.Value
		err := ip.emitExpr(x, func(v clixml.Value) error { out = append(out, v); return nil })
		if err != nil {
			return nil, err
		}
		return listValue(out), nil
	}
	return nil, fmt.Errorf("wsmantest built-ins: unknown expression %T", e)
}

// setEmpty records whether variable name (lower case) holds AutomationNull.
func (ip *interp) setEmpty(name string, empty bool) {
	if !empty {
		delete(ip.emptyVars, name)
		return
	}
	if ip.emptyVars == nil {
		ip.emptyVars = map[string]bool{}
	}
	ip.emptyVars[name] = true
}

// isEmptyVar reports whether e is a variable holding AutomationNull.
func (ip *interp) isEmptyVar(e bExpr) bool {
	v, ok := e.(bVar)
	return ok && ip.emptyVars[strings.ToLower(v.name)]
}

func (ip *interp) variable(name string) clixml.Value {
	if v, ok := ip.vars[strings.ToLower(name)]; ok {
		return v
	}
	return clixml.Nil{}
}

// maxTextLen bounds the text of one value (toText): lists nested and
// shared many times over could otherwise expand without bound.
const maxTextLen = 1 << 20

// toText converts a value to text as PowerShell does in an expandable
// string (invariant culture; list items joined with a space). The result is
// cut at maxTextLen bytes.
func toText(v clixml.Value) string {
	w := textWriter{max: maxTextLen}
	w.write(v, 0)
	return w.b.String()
}

type textWriter struct {
	b      strings.Builder
	max    int
	visits int
}

func (w *textWriter) full() bool { return w.b.Len() >= w.max || w.visits >= w.max }

func (w *textWriter) add(s string) {
	if room := w.max - w.b.Len(); len(s) > room {
		s = s[:max(room, 0)]
	}
	w.b.WriteString(s)
}

func (w *textWriter) write(v clixml.Value, depth int) {
	w.visits++
	if w.full() || depth > 64 {
		return
	}
	if o, ok := v.(*clixml.Object); ok {
		switch {
		case o.Kind == clixml.List || o.Kind == clixml.Enumerable:
			for i, it := range o.Items {
				if i > 0 {
					w.add(" ")
				}
				w.write(it, depth+1)
				if w.full() {
					return
				}
			}
		case o.Inner != nil:
			if dt, ok := o.Inner.(clixml.DateTime); ok {
				w.add(scalarText(dt))
			} else if o.HasToString {
				w.add(o.ToString)
			} else {
				w.write(o.Inner, depth+1)
			}
		case o.HasToString:
			w.add(o.ToString)
		default:
			w.add(o.TypeName())
		}
		return
	}
	w.add(scalarText(v))
}

// scalarText is the text of a value that is not an *Object.
func scalarText(v clixml.Value) string {
	switch x := v.(type) {
	case nil, clixml.Nil:
		return ""
	case clixml.String:
		return string(x)
	case clixml.Char:
		return string(rune(x))
	case clixml.Bool:
		if x {
			return "True"
		}
		return "False"
	case clixml.Int32:
		return strconv.FormatInt(int64(x), 10)
	case clixml.Int64:
		return strconv.FormatInt(int64(x), 10)
	case clixml.UInt8:
		return strconv.FormatUint(uint64(x), 10)
	case clixml.Int8:
		return strconv.FormatInt(int64(x), 10)
	case clixml.Int16:
		return strconv.FormatInt(int64(x), 10)
	case clixml.UInt16:
		return strconv.FormatUint(uint64(x), 10)
	case clixml.UInt32:
		return strconv.FormatUint(uint64(x), 10)
	case clixml.UInt64:
		return strconv.FormatUint(uint64(x), 10)
	case clixml.Float64:
		return strconv.FormatFloat(float64(x), 'G', -1, 64)
	case clixml.Float32:
		return strconv.FormatFloat(float64(x), 'G', -1, 32)
	case clixml.Decimal:
		return string(x)
	case clixml.DateTime:
		return x.Time.Format("01/02/2006 15:04:05")
	case clixml.ScriptBlock:
		return string(x)
	case clixml.Version:
		return string(x)
	case clixml.URI:
		return string(x)
	case clixml.GUID:
		return uuid.UUID(x).String()
	}
	return fmt.Sprint(v)
}

// toInt converts numbers and numeric strings to an integer: any integer
// clixml.AsInt64 accepts (also an object wrapping one, such as an enum),
// a whole Float64, or a String holding a decimal integer.
func toInt(v clixml.Value) (int64, bool) {
	if n, ok := clixml.AsInt64(v); ok {
		return n, true
	}
	switch x := v.(type) {
	case clixml.Float64:
		if float64(x) != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	case clixml.String:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// toFloat converts numbers and numeric strings to a float.
func toFloat(v clixml.Value) (float64, bool) {
	switch x := v.(type) {
	case clixml.Float64:
		return float64(x), true
	case clixml.Float32:
		return float64(x), true
	case clixml.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		return f, err == nil
	}
	n, ok := toInt(v)
	return float64(n), ok
}
