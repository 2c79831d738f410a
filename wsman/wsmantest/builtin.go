package wsmantest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// BuiltinCommands returns the names of the commands of the built-in script
// subset (aliases included), sorted case-insensitively.
//
// When no registered handler matches a PowerShell pipeline, the server runs
// it with a tiny interpreter (unless Options.DisableBuiltins), so that the
// usual demo scripts work with no handler at all. It is a convenience
// subset, NOT a PowerShell interpreter:
//
//   - statements separated by ";" or newlines, "#" and "<# #>" comments,
//     backtick line continuation, a newline allowed after "|";
//   - literals: 'single' and "double" quoted strings (a doubled quote
//     stands for itself; backtick escapes; $name, ${name} and $_ expanded
//     in double quotes), integers (Int32, Int64), decimals (Double), $true, $false, $null
//     (a bare $null statement writes $null, as in PowerShell),
//     comma lists, ranges N..M (also with $variables);
//   - variables: assignment "$x = <pipeline>", and the preference variables
//     $ErrorActionPreference, $WarningPreference, $VerbosePreference,
//     $DebugPreference, $InformationPreference, $ProgressPreference, which
//     the commands honour (Inquire counts as Continue: the server never
//     prompts);
//   - pipelines: an expression or a command first, then commands;
//   - commands (case-insensitive, parameter names by unique prefix, common
//     parameters -Verbose -Debug -ErrorAction -WarningAction
//     -InformationAction): Write-Output (echo, write), Write-Error,
//     Write-Warning, Write-Verbose, Write-Debug, Write-Information,
//     Write-Progress, Start-Sleep (sleep; -Seconds, -Milliseconds; waits on
//     the server's Clock and ends at once on a stop), Get-Date (-Format
//     o/s/u/yyyy-MM-dd/HH:mm:ss, -UFormat %s, -AsUTC), ForEach-Object
//     (Foreach-Object, %, foreach; -Process, -Begin, -End, several
//     positional blocks), Invoke-Expression (iex), Out-String (-Stream;
//     objects as their ToString text, not PowerShell's table formatting),
//     Out-Null, Read-Host (-Prompt; a ReadLine or Prompt host call the
//     client's host answers, its answer written as output; the call is
//     sent whatever host the client declared, so a client without a host
//     must not run it);
//   - a pipeline sent as commands (AddCommand) of these cmdlets with their
//     parameters, optionally after one script; client input (PIPELINE_INPUT)
//     is the pipeline input of the first command, and $input in a script.
//
// For example `1..1500 | Foreach-Object {"Return $_"; sleep 30}` (the
// Receive-PSSession documentation's job) and
// `Write-Output 'a'; Start-Sleep -Seconds 5; Write-Output 'b'` run as they
// do on Windows.
//
// Errors behave as in PowerShell: in a script, an unknown command writes a
// CommandNotFoundException error record (category ObjectNotFound) and the
// script goes on, so the pipeline completes; Write-Error writes a
// non-terminating error; under $ErrorActionPreference = 'Stop' (or
// -ErrorAction Stop) the first error fails the pipeline with that record.
// Parameter binding errors are ParameterBindingException records. In a
// pipeline sent as commands (AddCommand) an unknown command or a parameter
// that does not bind is terminating, also inside the script an
// Invoke-Expression command runs: the pipeline fails with that record and
// no error record is written, as Windows does
// (test_client_execute_ps_failure.yml). Syntax
// PowerShell rejects (an unterminated string, a missing "}") fails the
// pipeline with a ParseException record. Valid PowerShell outside the subset
// (if, function, parentheses, operators, $( ) ...) is not interpreted. When
// the script's first command is unknown, the server falls back to its
// command-not-found handler (a CommandNotFoundException record naming that
// command), as PowerShell would; when it is a built-in cmdlet or there is no
// command (throw 'x', 1 + 2), where PowerShell would run the script, the
// pipeline fails with a System.NotSupportedException record
// (NotSupportedByFakeServer) saying what is outside the subset, rather than
// a false "is not recognized". Register a handler for such scripts.
// The commands of a pipeline are resolved first to last before any runs, as
// in PowerShell.
//
// Limits bound the script length (64 KiB), tokens (16384), script-block
// nesting (32), range and collected-variable sizes (1,000,000 items) and
// evaluation steps (10,000,000 per run) and the bytes of strings a run makes
// (64 MiB), so that a runaway script cannot
// hang or exhaust the test process; exceeding one fails the pipeline with a
// BuiltinLimitExceeded error record.
func BuiltinCommands() []string {
	var out []string
	for _, d := range builtinCmdlets {
		out = append(out, d.name)
	}
	for a := range builtinAliases {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// builtinLimits bound what the interpreter accepts.
type builtinLimits struct {
	maxScriptLength int // bytes of script text
	maxTokens       int // tokens in one script
	maxDepth        int // nested script blocks
	maxRangeItems   int // items of one range or collected variable
	maxSteps        int // statements and pipeline items evaluated in one run
	maxTextBytes    int // bytes of strings made in one run (expansion, Out-String)
}

// defaultBuiltinLimits are generous for demos and small enough to keep a
// runaway script short.
var defaultBuiltinLimits = builtinLimits{
	maxScriptLength: 64 << 10,
	maxTokens:       16 << 10,
	maxDepth:        32,
	maxRangeItems:   1_000_000,
	maxSteps:        10_000_000,
	maxTextBytes:    64 << 20,
}

func init() { builtin = resolveBuiltin }

// resolveBuiltin is the BuiltinResolver of the package: it returns a
// handler for a PowerShell pipeline in the subset, nil otherwise.
func resolveBuiltin(inv *Invocation) Handler {
	if inv.Kind != KindPowerShell || len(inv.Pipeline) == 0 {
		return nil
	}
	prog, err := compilePipeline(inv.Pipeline, defaultBuiltinLimits)
	var ue *unsupportedError
	var nf *notFoundError
	switch {
	case errors.As(err, &ue):
		// Valid PowerShell outside the subset. When its first command is
		// unknown, the server's command-not-found answers as PowerShell
		// would. When it is a built-in cmdlet, or there is no command
		// (throw 'x', $a * 2), or the script cannot even be tokenized (so no
		// command can be named), "is not recognized" would be false:
		// PowerShell runs such a script, so the answer says the fake server
		// cannot.
		if src := inv.Pipeline[0].Name; inv.Pipeline[0].IsScript {
			_, lexErr := lex(src, defaultBuiltinLimits.maxTokens)
			if name := firstCommandName(src); lexErr != nil || name == "" || lookupCmdlet(name) != nil {
				rec := scriptErrorRecord(err)
				return HandlerFunc(func(context.Context, *Invocation) error { return rec })
			}
		}
		return nil
	case errors.As(err, &nf):
		// A later command of an AddCommand pipeline is unknown: PowerShell
		// resolves every command first and fails naming that one.
		rec := CommandNotFoundError(nf.name)
		return HandlerFunc(func(context.Context, *Invocation) error { return rec })
	case err != nil:
		rec := scriptErrorRecord(err)
		return HandlerFunc(func(context.Context, *Invocation) error { return rec })
	case prog == nil:
		return nil
	}
	commands := !inv.Pipeline[0].IsScript
	if !inv.NoInput && commands {
		// Commands (AddCommand) with client input: the input is the first
		// command's pipeline input. (A script reads it with $input.)
		pl := prog.stmts[0].pipe
		pl.elems = append([]*bElem{{expr: bVar{name: "input"}}}, pl.elems...)
	}
	return HandlerFunc(func(_ context.Context, inv *Invocation) error {
		return runBuiltinMode(invocationHost{inv}, prog, defaultBuiltinLimits, commands)
	})
}

// compilePipeline turns the pipeline of a CREATE_PIPELINE into a script:
// one script (possibly followed by commands), or commands only. An
// AddCommand pipeline whose first command is not a built-in is left to the
// server's fallback (nil script and nil error).
func compilePipeline(cmds []Command, lim builtinLimits) (*bScript, error) {
	var head *bScript
	pl := &bPipeline{}
	for i, c := range cmds {
		if c.IsScript {
			if i > 0 {
				return nil, &unsupportedError{what: "a script after the first pipeline command"}
			}
			if len(c.Parameters) > 0 {
				return nil, &unsupportedError{what: "script parameters"}
			}
			s, err := parseScript(c.Name, lim)
			if err != nil {
				return nil, err
			}
			head = s
			continue
		}
		if lookupCmdlet(c.Name) == nil {
			if i == 0 {
				return nil, nil // the server's own command-not-found applies
			}
			if head != nil {
				return nil, &unsupportedError{what: "the command " + c.Name}
			}
			return nil, &notFoundError{name: strings.TrimSpace(c.Name)}
		}
		bc := &bCommand{name: strings.TrimSpace(c.Name)}
		for _, p := range c.Parameters {
			e, err := valueExpr(p.Value, lim)
			if err != nil {
				return nil, err
			}
			if p.Name == "" {
				bc.args = append(bc.args, bArg{value: e})
				continue
			}
			if _, ok := p.Value.(clixml.Nil); ok || p.Value == nil {
				// AddParameter("Stream") with no value: a switch that is
				// on, or $null for other parameters.
				bc.args = append(bc.args, bArg{param: p.Name, value: bAPINull{}})
				continue
			}
			bc.args = append(bc.args, bArg{param: p.Name, value: e})
		}
		pl.elems = append(pl.elems, &bElem{cmd: bc})
	}
	if head == nil {
		return &bScript{stmts: []*bStmt{{pipe: pl}}}, nil
	}
	if len(pl.elems) == 0 {
		return head, nil
	}
	// script | commands: run the script as the first element.
	return &bScript{stmts: []*bStmt{{pipe: &bPipeline{elems: append([]*bElem{{expr: bScriptExpr{head}}}, pl.elems...)}}}}, nil
}

// bAPINull is the null value of a parameter added through the API
// (AddParameter(name) with no value): it turns a switch on.
type bAPINull struct{}

// bScriptExpr is a whole script used as the first element of a pipeline
// (AddScript followed by AddCommand).
type bScriptExpr struct{ s *bScript }

// valueExpr turns an argument value sent by the client into an expression.
func valueExpr(v clixml.Value, lim builtinLimits) (bExpr, error) {
	switch x := v.(type) {
	case clixml.ScriptBlock:
		if _, err := parseScript(string(x), lim); err != nil {
			return nil, err
		}
		return bBlock{text: string(x)}, nil
	case *clixml.Object:
		if x.Kind == clixml.List || x.Kind == clixml.Enumerable {
			items := make([]bExpr, len(x.Items))
			for i, it := range x.Items {
				e, err := valueExpr(it, lim)
				if err != nil {
					return nil, err
				}
				items[i] = e
			}
			return bList{items: items}, nil
		}
	}
	return bLit{v: v}, nil
}

// notFoundError reports a command of an AddCommand pipeline, after the
// first, that is not in the subset.
type notFoundError struct{ name string }

func (e *notFoundError) Error() string { return "command not found: " + e.name }

// runBuiltin runs a compiled script against a host and maps the outcome to
// a handler result: nil (Completed), an *ErrorRecord (Failed), a *stopError
// wrapping the record for a failure under an action preference of Stop, or
// the context's error (Stopped).
func runBuiltin(host scriptHost, s *bScript, lim builtinLimits) error {
	return runBuiltinMode(host, s, lim, false)
}

// runBuiltinMode is runBuiltin; commands says the pipeline was sent as
// commands (AddCommand) rather than as a script: then an error that ends a
// statement (a command not found, a parameter that does not bind), also
// inside the script of an Invoke-Expression or a script block the pipeline
// runs, fails the pipeline instead of being written to the error stream,
// as Windows does (test_client_execute_ps_failure.yml: Invoke-Expression
// of an unknown command, sent as a command, ends in Failed with the
// CommandNotFoundException and no ERROR_RECORD). Inside a script the same
// errors are non-terminating: written, and the script goes on.
func runBuiltinMode(host scriptHost, s *bScript, lim builtinLimits, commands bool) error {
	ip := newInterp(host, lim)
	ip.commands = commands
	err := ip.runScript(s, func(v clixml.Value) error { return host.WriteOutput(v) })
	if err == nil {
		return nil
	}
	if cerr := host.Context().Err(); cerr != nil {
		return cerr
	}
	var te *terminatingError
	if errors.As(err, &te) {
		return &stopError{rec: te.rec}
	}
	var se *statementError
	if errors.As(err, &se) {
		return se.rec
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return scriptErrorRecord(err)
}

// scriptError wraps a parse error met while running (a script block's text)
// so that it ends the statement.
func scriptError(err error) error {
	return &statementError{rec: scriptErrorRecord(err)}
}

// scriptErrorRecord describes a parse or limit error as PowerShell would.
func scriptErrorRecord(err error) *ErrorRecord {
	var se *syntaxError
	var le *limitError
	var ue *unsupportedError
	switch {
	case errors.As(err, &se):
		return &ErrorRecord{
			Message:               se.msg,
			ExceptionType:         "System.Management.Automation.ParseException",
			FullyQualifiedErrorID: se.errorID,
			Category:              ErrorCategory(psrp.ErrorCategoryParserError),
			CategoryReason:        "ParseException",
		}
	case errors.As(err, &le):
		return &ErrorRecord{
			Message:               le.Error(),
			ExceptionType:         "System.Management.Automation.RuntimeException",
			FullyQualifiedErrorID: "BuiltinLimitExceeded",
			Category:              ErrorCategory(psrp.ErrorCategoryLimitsExceeded),
			CategoryReason:        "RuntimeException",
		}
	case errors.As(err, &ue):
		return &ErrorRecord{
			Message:               ue.Error() + "; register a handler for this script.",
			ExceptionType:         "System.NotSupportedException",
			FullyQualifiedErrorID: "NotSupportedByFakeServer",
			Category:              ErrorCategory(psrp.ErrorCategoryNotImplemented),
			CategoryReason:        "NotSupportedException",
		}
	}
	return &ErrorRecord{
		Message:               fmt.Sprintf("wsmantest built-ins: %v", err),
		ExceptionType:         "System.Management.Automation.RuntimeException",
		FullyQualifiedErrorID: "BuiltinFailure",
		CategoryReason:        "RuntimeException",
	}
}
