package wsmantest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// recHost records what a script writes, as "stream:text" events.
type recHost struct {
	ctx     context.Context
	now     time.Time
	events  []string
	outputs []clixml.Value
	errors  []*ErrorRecord
	infos   []*InformationRecord
	progs   []*ProgressRecord
	input   []clixml.Value
	onSleep func(d time.Duration) error
	// onHostCall answers host calls (nil: they fail).
	onHostCall func(call HostCall) (clixml.Value, error)
}

func (h *recHost) HostCall(call HostCall) (clixml.Value, error) {
	h.events = append(h.events, "host:"+call.MethodName)
	if h.onHostCall == nil {
		return nil, errors.New("no host")
	}
	return h.onHostCall(call)
}

func (h *recHost) ReadInput() (clixml.Value, error) {
	if err := h.ctx.Err(); err != nil {
		return nil, err
	}
	if len(h.input) == 0 {
		return nil, io.EOF
	}
	v := h.input[0]
	h.input = h.input[1:]
	return v, nil
}

func newRecHost() *recHost {
	return &recHost{ctx: context.Background(), now: time.Date(2026, 11, 28, 9, 30, 15, 0, time.UTC)}
}

func (h *recHost) Context() context.Context { return h.ctx }
func (h *recHost) Now() time.Time           { return h.now }
func (h *recHost) WriteOutput(values ...clixml.Value) error {
	for _, v := range values {
		h.outputs = append(h.outputs, v)
		h.events = append(h.events, "output:"+toText(v))
	}
	return h.ctx.Err()
}
func (h *recHost) WriteError(rec *ErrorRecord) error {
	h.errors = append(h.errors, rec)
	h.events = append(h.events, "error:"+rec.Message)
	return h.ctx.Err()
}
func (h *recHost) WriteWarning(msg string) error {
	h.events = append(h.events, "warning:"+msg)
	return h.ctx.Err()
}
func (h *recHost) WriteVerbose(msg string) error {
	h.events = append(h.events, "verbose:"+msg)
	return h.ctx.Err()
}
func (h *recHost) WriteDebug(msg string) error {
	h.events = append(h.events, "debug:"+msg)
	return h.ctx.Err()
}
func (h *recHost) WriteInformation(rec *InformationRecord) error {
	h.infos = append(h.infos, rec)
	h.events = append(h.events, "info:"+toText(rec.MessageData))
	return h.ctx.Err()
}
func (h *recHost) WriteProgress(rec *ProgressRecord) error {
	h.progs = append(h.progs, rec)
	h.events = append(h.events, "progress:"+rec.Activity)
	return h.ctx.Err()
}
func (h *recHost) Sleep(d time.Duration) error {
	h.events = append(h.events, "sleep:"+d.String())
	if h.onSleep != nil {
		return h.onSleep(d)
	}
	h.now = h.now.Add(d)
	return h.ctx.Err()
}

// runScriptText compiles and runs a script like the server would.
func runScriptText(t *testing.T, h *recHost, script string, lim builtinLimits) error {
	t.Helper()
	prog, err := compilePipeline([]Command{{Name: script, IsScript: true}}, lim)
	if err != nil {
		return scriptErrorRecord(err)
	}
	require.NotNil(t, prog)
	return runBuiltin(h, prog, lim)
}

func TestBuiltinScripts(t *testing.T) {
	streams := "$DebugPreference = 'Continue'\n            $VerbosePreference = 'Continue'\n" +
		"            Write-Debug 'debug stream'\n            Write-Verbose 'verbose stream'\n" +
		"            Write-Error 'error stream'\n            Write-Output 'output stream'\n" +
		"            Write-Warning 'warning stream'\n            Write-Information 'information stream'\n            "
	tests := []struct {
		name   string
		script string
		events []string
		failID string // FullyQualifiedErrorId of the failure, "" for success
	}{
		{"string literal", `'hello'`, []string{"output:hello"}, ""},
		{"double quoted without $_", `"Return $_"`, []string{"output:Return "}, ""},
		{"reference example", `1..3 | Foreach-Object {"Return $_"; sleep 30}`,
			[]string{"output:Return 1", "sleep:30s", "output:Return 2", "sleep:30s", "output:Return 3", "sleep:30s"}, ""},
		{"ForEach-Object and %", "1..2 | ForEach-Object { \"a$_\" }\n3..2 | % { $_ }",
			[]string{"output:a1", "output:a2", "output:3", "output:2"}, ""},
		{"foreach alias", `'x','y' | foreach { "<$_>" }`, []string{"output:<x>", "output:<y>"}, ""},
		{"disconnected_commands recording", `Write-Output 'a'; Start-Sleep -Seconds 5; Write-Output 'b'`,
			[]string{"output:a", "sleep:5s", "output:b"}, ""},
		{"stream recording", streams, []string{"debug:debug stream", "verbose:verbose stream", "error:error stream",
			"output:output stream", "warning:warning stream", "info:information stream"}, ""},
		{"verbose and debug off by default", `Write-Verbose v; Write-Debug d; Write-Verbose v2 -Verbose; Write-Debug -Debug d2; Write-Verbose -Verbose:$false v3`,
			[]string{"verbose:v2", "debug:d2"}, ""},
		{"error_failed recording", `$ErrorActionPreference = 'Stop'; Write-Output before; Write-Error error; Write-Output after`,
			[]string{"output:before"}, "Microsoft.PowerShell.Commands.WriteErrorException"},
		{"Write-Error -ErrorAction Stop", `Write-Error oops -ErrorAction Stop; 'after'`, nil, "Microsoft.PowerShell.Commands.WriteErrorException"},
		{"Write-Error SilentlyContinue", `Write-Error oops -ErrorAction SilentlyContinue; 'after'`, []string{"output:after"}, ""},
		{"unknown command continues", `Get-Foo -Bar 1; 'after'`,
			[]string{"error:The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", "output:after"}, ""},
		{"unknown command with Stop", "$ErrorActionPreference = 'Stop'\nGet-Foo\n'after'", nil, "CommandNotFoundException"},
		{"unknown command in a pipeline", `Get-Process | Select-Object Name`, []string{"error:The term 'Get-Process' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."}, ""},
		{"first unknown command of a pipeline, nothing run", `'x' | Get-Foo | Get-Bar; Write-Output 1 | Get-Baz; 'after'`,
			[]string{"error:The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", "error:The term 'Get-Baz' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", "output:after"}, ""},
		{"echo enumerates", `echo a b c; Write-Output 1,2 3; write -NoEnumerate 4,5`,
			[]string{"output:a", "output:b", "output:c", "output:1", "output:2", "output:3", "output:4 5"}, ""},
		{"variables and interpolation", "$x = 5; \"x=$x ${x}!`t'q'\"; 'it''s'; \"say \"\"hi\"\"\"; \"`$x\"",
			[]string{"output:x=5 5!\t'q'", "output:it's", "output:say \"hi\"", "output:$x"}, ""},
		{"collected variable", `$r = 1..3; $r | % { $_ }; $one = 'x'; $one; $none = Start-Sleep 0; "[$none]"`,
			[]string{"output:1", "output:2", "output:3", "output:x", "sleep:0s", "output:[]"}, ""},
		{"range with variable", `$n = 2; 1..$n | % { $_ }; $n..0`, []string{"output:1", "output:2", "output:2", "output:1", "output:0"}, ""},
		{"begin process end", `1..2 | % -Begin {'b'} -Process {$_} -End {'e'}; 1..2 | % {'B'} {$_} {'E'}; 7 | % {'B2'} {$_}`,
			[]string{"output:b", "output:1", "output:2", "output:e", "output:B", "output:1", "output:2", "output:E", "output:B2", "output:7"}, ""},
		{"sleep forms", `sleep 2; Start-Sleep -s 1.5; Start-Sleep -Milliseconds 250; Start-Sleep -milli 1`,
			[]string{"sleep:2s", "sleep:1.5s", "sleep:250ms", "sleep:1ms"}, ""},
		{"bad parameter is a statement error", `Start-Sleep -Foo 1; 'next'`,
			[]string{"error:A parameter cannot be found that matches parameter name 'Foo'.", "output:next"}, ""},
		{"validation error", `Start-Sleep -Seconds -1`,
			[]string{"error:Cannot validate argument on parameter 'Seconds'. The -1 argument is less than the minimum allowed range of 0 or greater than the maximum allowed range of 2147483."}, ""},
		{"missing argument", `Start-Sleep -Seconds`, []string{"error:Missing an argument for parameter 'Seconds'. Specify a parameter of type 'System.Double' and try again."}, ""},
		{"extra positional", `Write-Warning a b`, []string{"error:A positional parameter cannot be found that accepts argument 'b'."}, ""},
		{"pipeline input to Write-Warning", `'w1','w2' | Write-Warning`, []string{"warning:w1", "warning:w2"}, ""},
		{"warning preference", "$WarningPreference = 'SilentlyContinue'; Write-Warning hidden; Write-Warning shown -WarningAction Continue", []string{"warning:shown"}, ""},
		{"warning Stop", `Write-Warning w -WarningAction Stop; 'after'`, []string{"warning:w"}, "ActionPreferenceStop"},
		{"progress", `Write-Progress -Activity act -Status st -PercentComplete 50 -Id 3; Write-Progress act2 -Completed`,
			[]string{"progress:act", "progress:act2"}, ""},
		{"progress preference", `$ProgressPreference = 'SilentlyContinue'; Write-Progress act`, nil, ""},
		{"information", `Write-Information info -Tags a,b; Write-Information -MessageData 5 -InformationAction Ignore`, []string{"info:info"}, ""},
		{"comments and continuation", "# comment\n'a' <# block\ncomment #> ; 'b' # trailing\nWrite-Output `\n  'c'\n1..2 |\n  % { $_ }",
			[]string{"output:a", "output:b", "output:c", "output:1", "output:2"}, ""},
		{"get date formats", `Get-Date -Format o; Get-Date -Format yyyy-MM-dd; Get-Date -UFormat %s; "$(1)"`, nil, "NotSupportedByFakeServer"},
		{"empty script", "  \n ; ", nil, ""},
		{"read-only variable", `$true = 1; 'after'`, []string{"error:Cannot overwrite variable true because it is read-only or constant.", "output:after"}, ""},
		{"parse error: unterminated string", `'abc`, nil, "TerminatorExpectedAtEndOfString"},
		{"parse error: missing brace", `1..3 | % { $_`, nil, "MissingEndCurlyBrace"},
		{"parse error: expression after pipe", `'a' | 'b'`, nil, "ExpressionsMustBeFirstInPipeline"},
		{"parse error: empty pipe element", `'a' |`, nil, "EmptyPipeElement"},
		{"parse error: stray brace", `'a' }`, nil, "UnexpectedToken"},
		{"limit: range", `1..2000000 | % { $_ }`, nil, "BuiltinLimitExceeded"},
		{"limit: self-invoking script", `$x = 'iex $x'; iex $x`, nil, "BuiltinLimitExceeded"},
		{"Invoke-Expression", `iex "'x'; Get-Nope"; Invoke-Expression -Command '1..2' | % { "n$_" }; iex "'unterminated"; 'after'`,
			[]string{"output:x", "error:The term 'Get-Nope' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
				"output:n1", "output:n2", "error:The string is missing the terminator: '.", "output:after"}, ""},
		{"Invoke-Expression outside the subset", `iex 'if ($x) { 1 }'; 'after'`,
			[]string{"error:wsmantest built-ins: the 'if' statement is not supported (at offset 0); register a handler for this script.", "output:after"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRecHost()
			err := runScriptText(t, h, tt.script, defaultBuiltinLimits)
			if tt.failID == "" {
				require.NoError(t, err)
			} else {
				var rec *ErrorRecord
				require.True(t, errors.As(err, &rec), "want a failure record, got %v", err)
				assert.Equal(t, tt.failID, fqid(rec), rec.Message)
			}
			if tt.events != nil || tt.failID == "" {
				assert.Equal(t, tt.events, h.events)
			}
		})
	}
}

// fqid returns the FullyQualifiedErrorId the server sends for rec.
func fqid(rec *ErrorRecord) string {
	if rec.FullyQualifiedErrorID == "" {
		return "Microsoft.PowerShell.Commands.WriteErrorException"
	}
	return rec.FullyQualifiedErrorID
}

func TestBuiltinRecords(t *testing.T) {
	h := newRecHost()
	require.NoError(t, runScriptText(t, h, `Write-Error 'e1' -Category InvalidData -ErrorId MyId -TargetObject tgt; Get-Nothing`, defaultBuiltinLimits))
	require.Len(t, h.errors, 2)
	e := h.errors[0]
	assert.Equal(t, "e1", e.Message)
	assert.Equal(t, ErrorCategory(6), e.Category)
	assert.Equal(t, "MyId", e.FullyQualifiedErrorID)
	assert.Equal(t, clixml.String("tgt"), e.TargetObject)
	assert.Equal(t, "Write-Error", e.CategoryActivity)
	assert.Equal(t, "WriteErrorException", e.CategoryReason)
	nf := h.errors[1]
	assert.Equal(t, "CommandNotFoundException", nf.FullyQualifiedErrorID)
	assert.Equal(t, "System.Management.Automation.CommandNotFoundException", nf.ExceptionType)
	assert.Equal(t, CategoryObjectNotFound, nf.Category)
	assert.Equal(t, "Get-Nothing", nf.TargetName)

	h = newRecHost()
	require.NoError(t, runScriptText(t, h, `$null = 1; Start-Sleep -Bogus 1`, defaultBuiltinLimits))
	require.Len(t, h.errors, 2)
	assert.Equal(t, "VariableNotWritable", h.errors[0].FullyQualifiedErrorID)
	assert.Equal(t, ErrorCategory(23), h.errors[0].Category, "WriteError")
	assert.Equal(t, "NamedParameterNotFound,Microsoft.PowerShell.Commands.StartSleepCommand", h.errors[1].FullyQualifiedErrorID)
	assert.Equal(t, "System.Management.Automation.ParameterBindingException", h.errors[1].ExceptionType)
	assert.Equal(t, CategoryInvalidArgument, h.errors[1].Category)

	h = newRecHost()
	require.NoError(t, runScriptText(t, h, `Write-Progress -Activity act -Status st -PercentComplete 50 -Id 3 -ParentId 1 -SecondsRemaining 9 -CurrentOperation op; Write-Progress act2 -Completed`, defaultBuiltinLimits))
	require.Len(t, h.progs, 2)
	assert.Equal(t, ProgressRecord{Activity: "act", ActivityID: 3, ParentActivityID: 1, StatusDescription: "st", CurrentOperation: "op", PercentComplete: 50, SecondsRemaining: 9}, *h.progs[0])
	assert.Equal(t, ProgressRecord{Activity: "act2", ParentActivityID: -1, StatusDescription: "Processing", PercentComplete: -1, SecondsRemaining: -1, Completed: true}, *h.progs[1])

	h = newRecHost()
	require.NoError(t, runScriptText(t, h, `Write-Information -MessageData info -Tags a,b; 5 | Write-Information`, defaultBuiltinLimits))
	require.Len(t, h.infos, 2)
	assert.Equal(t, clixml.String("info"), h.infos[0].MessageData)
	assert.Equal(t, []string{"a", "b"}, h.infos[0].Tags)
	assert.Equal(t, "Write-Information", h.infos[0].Source)
	assert.Equal(t, clixml.Int32(5), h.infos[1].MessageData)

	h = newRecHost()
	require.NoError(t, runScriptText(t, h, `Get-Date; Get-Date -Format o; Get-Date -Format s; Get-Date -UFormat %s; 1; 2147483648; 1.5; $true; $null`, defaultBuiltinLimits))
	require.Len(t, h.outputs, 9, "a bare $null statement writes $null")
	assert.Equal(t, clixml.Nil{}, h.outputs[8])
	d, ok := h.outputs[0].(*clixml.Object)
	require.True(t, ok)
	assert.Empty(t, d.TypeNames, "serialized like PowerShell: <Obj><DT/><MS>DisplayHint</MS></Obj>")
	assert.True(t, d.Inner.(clixml.DateTime).Time.Equal(h.now))
	b, err := clixml.Marshal(d)
	require.NoError(t, err)
	assert.Regexp(t, `^<Obj RefId="0"><DT>2026-11-28T09:30:15[^<]*</DT><MS><Obj N="DisplayHint" RefId="1"><TN RefId="0"><T>Microsoft.PowerShell.Commands.DisplayHintType</T>`, string(b))
	hint, ok := d.Property("DisplayHint")
	require.True(t, ok)
	assert.Equal(t, "DateTime", hint.(*clixml.Object).ToString)
	assert.Equal(t, clixml.String("2026-11-28T09:30:15.0000000Z"), h.outputs[1])
	assert.Equal(t, clixml.String("2026-11-28T09:30:15"), h.outputs[2])
	assert.Equal(t, clixml.String(fmt.Sprint(h.now.Unix())), h.outputs[3])
	assert.Equal(t, clixml.Int32(1), h.outputs[4])
	assert.Equal(t, clixml.Int64(2147483648), h.outputs[5])
	assert.Equal(t, clixml.Float64(1.5), h.outputs[6])
	assert.Equal(t, clixml.Bool(true), h.outputs[7])
}

func TestBuiltinStop(t *testing.T) {
	h := newRecHost()
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	sleeps := 0
	h.onSleep = func(time.Duration) error {
		sleeps++
		if sleeps == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	err := runScriptText(t, h, `1..1500 | Foreach-Object {"Return $_"; sleep 30}`, defaultBuiltinLimits)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"output:Return 1", "sleep:30s", "output:Return 2", "sleep:30s"}, h.events)
}

func TestBuiltinStepLimit(t *testing.T) {
	lim := defaultBuiltinLimits
	lim.maxSteps = 1000
	h := newRecHost()
	err := runScriptText(t, h, `1..100 | % { 1..100 | % { $_ } }`, lim)
	var rec *ErrorRecord
	require.True(t, errors.As(err, &rec))
	assert.Equal(t, "BuiltinLimitExceeded", rec.FullyQualifiedErrorID)
	assert.Contains(t, rec.Message, "1000 evaluation steps")
	assert.NotEmpty(t, h.events, "output before the limit is kept")

	// A list doubled 40 times over shares its items; its text is cut
	// instead of taking 2^40 steps.
	h = newRecHost()
	err = runScriptText(t, h, "$a = 'x'\n"+strings.Repeat("$a = $a,$a\n", 40)+"\"$a\" | Out-Null; 'done'", defaultBuiltinLimits)
	require.NoError(t, err)
	assert.Equal(t, []string{"output:done"}, h.events)

	lim = defaultBuiltinLimits
	lim.maxTextBytes = 1000
	err = runScriptText(t, newRecHost(), `1..100 | % { "0123456789$_" }`, lim)
	require.True(t, errors.As(err, &rec))
	assert.Contains(t, rec.Message, "more than 1000 bytes of strings")

	lim = defaultBuiltinLimits
	lim.maxScriptLength = 10
	err = runScriptText(t, newRecHost(), `'0123456789abc'`, lim)
	require.True(t, errors.As(err, &rec))
	assert.Contains(t, rec.Message, "limit 10")

	lim = defaultBuiltinLimits
	lim.maxDepth = 3
	err = runScriptText(t, newRecHost(), `% { % { % { % { 1 } } } }`, lim)
	require.True(t, errors.As(err, &rec))
	assert.Contains(t, rec.Message, "nested deeper than 3")

	lim = defaultBuiltinLimits
	lim.maxTokens = 5
	err = runScriptText(t, newRecHost(), `1;2;3;4;5;6`, lim)
	require.True(t, errors.As(err, &rec))
	assert.Contains(t, rec.Message, "more than 5 tokens")
}

func TestResolveBuiltin(t *testing.T) {
	script := func(s string) *Invocation {
		return &Invocation{Kind: KindPowerShell, Pipeline: []Command{{Name: s, IsScript: true}}}
	}
	// Outside the subset with an unknown first command: the server's
	// command-not-found applies, naming that command as PowerShell does.
	for _, s := range []string{
		`Get-Nope | ForEach-Object { $_ * 2 }`, `Get-Nope (1)`, `Get-Nope; $x[0]`,
	} {
		assert.Nil(t, resolveBuiltin(script(s)), "outside the subset, unknown command first: %s", s)
	}
	// Outside the subset with no command, or a built-in cmdlet first:
	// PowerShell runs these, so the answer is NotSupported, not a false
	// "is not recognized" naming ForEach-Object or the script itself.
	for _, s := range []string{
		`if ($true) { 'x' }`, `"$(Get-Date)"`, `function f { 1 }`, `$a.Length`, `(1)`, `1 + 2`, `$x[0]`,
		`$env:COMPUTERNAME`, `a || b`, `begin { 1 }`, `throw 'boom'`, `$input | ForEach-Object { $_ * 2 }`,
		`Write-Output (1 + 2)`,
	} {
		h := resolveBuiltin(script(s))
		require.NotNil(t, h, "outside the subset, no unknown command: %s", s)
		err := h.Run(context.Background(), nil)
		var rec *ErrorRecord
		require.True(t, errors.As(err, &rec), "%s: %v", s, err)
		assert.Equal(t, "System.NotSupportedException", rec.ExceptionType, s)
		assert.Equal(t, "NotSupportedByFakeServer", rec.FullyQualifiedErrorID, s)
		assert.NotContains(t, rec.Message, "is not recognized", s)
	}
	for _, s := range []string{`'a'`, `Get-Foo`, `1..3 | % { sleep 1 }`, ``} {
		assert.NotNil(t, resolveBuiltin(script(s)), "in the subset: %q", s)
	}
	// A parse error gives a handler that fails with a ParseException.
	h := resolveBuiltin(script(`'abc`))
	require.NotNil(t, h)
	err := h.Run(context.Background(), nil)
	var rec *ErrorRecord
	require.True(t, errors.As(err, &rec))
	assert.Equal(t, "System.Management.Automation.ParseException", rec.ExceptionType)
	assert.Equal(t, ErrorCategory(17), rec.Category)

	// Commands (AddCommand) of unknown cmdlets and cmd shells are left to
	// the server.
	assert.Nil(t, resolveBuiltin(&Invocation{Kind: KindPowerShell, Pipeline: []Command{{Name: "Get-Item"}}}))
	assert.Nil(t, resolveBuiltin(&Invocation{Kind: KindCmd, CommandLine: "echo"}))
	assert.Nil(t, resolveBuiltin(&Invocation{Kind: KindPowerShell}))
	assert.NotNil(t, resolveBuiltin(&Invocation{Kind: KindPowerShell, Pipeline: []Command{{Name: "start-sleep", Parameters: []Parameter{{Name: "Seconds", Value: clixml.Int32(1)}}}}}))
}

func TestBuiltinCommandPipelines(t *testing.T) {
	tests := []struct {
		name   string
		cmds   []Command
		events []string
	}{
		{"AddCommand with parameters", []Command{
			{Name: "Start-Sleep", Parameters: []Parameter{{Name: "Seconds", Value: clixml.Int32(5)}}},
		}, []string{"sleep:5s"}},
		{"positional and switch", []Command{
			{Name: "Write-Verbose", Parameters: []Parameter{{Value: clixml.String("v")}, {Name: "Verbose", Value: clixml.Bool(true)}}},
		}, []string{"verbose:v"}},
		{"list argument", []Command{
			{Name: "Write-Output", Parameters: []Parameter{{Name: "InputObject", Value: listValue([]clixml.Value{clixml.Int32(1), clixml.String("two")})}}},
		}, []string{"output:1", "output:two"}},
		{"script then ForEach-Object with a script block", []Command{
			{Name: "1..2", IsScript: true},
			{Name: "ForEach-Object", Parameters: []Parameter{{Name: "Process", Value: clixml.ScriptBlock(`"n=$_"`)}}},
		}, []string{"output:n=1", "output:n=2"}},
		{"pypsrp execute_ps: Invoke-Expression | Out-String -Stream", []Command{
			{Name: "Invoke-Expression", Parameters: []Parameter{{Name: "Command", Value: clixml.String("'a'; Write-Warning w; \"b`nc\"")}}},
			{Name: "Out-String", Parameters: []Parameter{{Name: "Stream", Value: clixml.Nil{}}}},
		}, []string{"output:a", "warning:w", "output:b", "output:c"}},
		{"Out-String collects", []Command{
			{Name: "1..3", IsScript: true},
			{Name: "Out-String"},
		}, []string{"output:1\r\n2\r\n3\r\n"}},
		{"Out-Null", []Command{
			{Name: "Write-Output", Parameters: []Parameter{{Value: clixml.String("x")}}},
			{Name: "Out-Null"},
		}, nil},
		{"command pipeline", []Command{
			{Name: "Write-Output", Parameters: []Parameter{{Value: clixml.String("w")}}},
			{Name: "Write-Warning"},
		}, []string{"warning:w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := compilePipeline(tt.cmds, defaultBuiltinLimits)
			require.NoError(t, err)
			require.NotNil(t, prog)
			h := newRecHost()
			require.NoError(t, runBuiltin(h, prog, defaultBuiltinLimits))
			assert.Equal(t, tt.events, h.events)
		})
	}
	_, err := compilePipeline([]Command{{Name: "Write-Output"}, {Name: "'x'", IsScript: true}}, defaultBuiltinLimits)
	var ue *unsupportedError
	require.True(t, errors.As(err, &ue))
}

func TestLexer(t *testing.T) {
	toks, err := lex("Write-Output -Name:$x \"a$b`n\" 'c''d' # c\n1..3|%{$_}", 100)
	require.NoError(t, err)
	var kinds []tokKind
	var texts []string
	for _, tk := range toks {
		kinds = append(kinds, tk.kind)
		switch tk.kind {
		case tkString:
			var b strings.Builder
			for _, p := range tk.parts {
				if p.isVar {
					b.WriteString("{" + p.text + "}")
				} else {
					b.WriteString(p.text)
				}
			}
			texts = append(texts, b.String())
		default:
			texts = append(texts, tk.text)
		}
	}
	assert.Equal(t, []tokKind{tkWord, tkWord, tkVar, tkString, tkString, tkNewline, tkWord, tkPipe, tkWord, tkLBrace, tkVar, tkRBrace, tkEOF}, kinds)
	assert.Equal(t, []string{"Write-Output", "-Name:", "x", "a{b}\n", "c'd", "", "1..3", "", "%", "", "_", "", ""}, texts)
	assert.False(t, toks[2].space, "$x is attached to -Name:")
}

func TestBuiltinCommands(t *testing.T) {
	got := BuiltinCommands()
	assert.Equal(t, []string{"%", "echo", "foreach", "ForEach-Object", "Get-Date", "iex", "Invoke-Expression", "Out-Null", "Out-String", "Read-Host", "sleep", "Start-Sleep", "write",
		"Write-Debug", "Write-Error", "Write-Information", "Write-Output", "Write-Progress", "Write-Verbose", "Write-Warning"}, got)
	for _, name := range got {
		assert.NotNil(t, lookupCmdlet(name), name)
		assert.NotNil(t, lookupCmdlet(strings.ToUpper(name)), name)
	}
	assert.Nil(t, lookupCmdlet("Write-Host"))
}

func TestBuiltinInput(t *testing.T) {
	h := newRecHost()
	h.input = []clixml.Value{clixml.Int32(1), clixml.String("two")}
	require.NoError(t, runScriptText(t, h, `$input | % { "in:$_" }; $input; 'end'`, defaultBuiltinLimits))
	assert.Equal(t, []string{"output:in:1", "output:in:two", "output:end"}, h.events, "the input is read once")

	h = newRecHost()
	h.input = []clixml.Value{clixml.String("a"), clixml.String("b")}
	require.NoError(t, runScriptText(t, h, `$all = $input; "[$all]"`, defaultBuiltinLimits))
	assert.Equal(t, []string{"output:[a b]"}, h.events)

}
