package wsmantest

import (
	"context"
	"errors"
	"testing"
)

// FuzzBuiltinScript parses and runs arbitrary scripts with small limits: no
// panic, no hang, and every outcome is success, a stop, or an error record.
func FuzzBuiltinScript(f *testing.F) {
	for _, s := range []string{
		`1..1500 | Foreach-Object {"Return $_"; sleep 30}`,
		`Write-Output 'a'; Start-Sleep -Seconds 5; Write-Output 'b'`,
		"$DebugPreference = 'Continue'\nWrite-Debug 'd'\nWrite-Verbose 'v' -Verbose\nWrite-Error 'e'\nWrite-Warning 'w'\nWrite-Information 'i'",
		`$ErrorActionPreference = 'Stop'; Write-Output before; Write-Error error; Write-Output after`,
		`1..2 | % -Begin {'b'} -Process {"x${_}y"} -End {'e'}; $x = 3..1; $x | % { $_ }`,
		`Write-Progress -Activity a -Status s -PercentComplete 5 -Id 1 -Completed; Get-Date -Format o`,
		"# c\n'it''s' <# b #> `\n ; \"`t`$x\"",
		`'abc`, `% { `, `'a' | 'b'`, `$a.b`, `"$(x)"`, `${}`, `-1..-3`, `$n..`, `1..$`, `echo -NoEnumerate:$true 1,2`,
		`$x = 'iex $x'; iex $x`, "$a = 'x'\n$a = $a,$a\n$a = $a,$a\n$a = $a,$a\n\"$a\"", `iex "1..3 | Out-String"; 'a','b' | Out-String -Stream | Out-Null`,
	} {
		f.Add(s)
	}
	lim := builtinLimits{maxScriptLength: 4 << 10, maxTokens: 1 << 10, maxDepth: 16, maxRangeItems: 1000, maxSteps: 5000, maxTextBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, script string) {
		// The command-not-found fallback tokenizes any script too.
		if name := firstCommandName(script); len(name) > len(script) {
			t.Fatalf("command name %q longer than the script", name)
		}
		prog, err := compilePipeline([]Command{{Name: script, IsScript: true}}, lim)
		if err != nil {
			var se *syntaxError
			var le *limitError
			var ue *unsupportedError
			if !errors.As(err, &se) && !errors.As(err, &le) && !errors.As(err, &ue) {
				t.Fatalf("unexpected parse error type %T: %v", err, err)
			}
			if scriptErrorRecord(err) == nil {
				t.Fatal("no record for a parse error")
			}
			return
		}
		h := newRecHost()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h.ctx = ctx
		err = runBuiltin(h, prog, lim)
		if err == nil {
			return
		}
		var rec *ErrorRecord
		if !errors.As(err, &rec) {
			t.Fatalf("run ended with %T %v, want an *ErrorRecord", err, err)
		}
		if rec.Message == "" {
			t.Fatal("error record without a message")
		}
	})
}
