package wsmantest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The .NET values of System.Management.Automation.ErrorCategory: written
// out here (not taken from psrp) so that a wrong constant in either package
// fails. 0, 14 and 17 are also in the recordings (ErrorCategory_Category of
// NotSpecified, OperationStopped and ParserError records).
func TestErrorCategoryDotNetValues(t *testing.T) {
	tests := []struct {
		c    ErrorCategory
		val  int32
		name string
	}{
		{CategoryNotSpecified, 0, "NotSpecified"},
		{CategoryInvalidArgument, 5, "InvalidArgument"},
		{CategoryInvalidData, 6, "InvalidData"},
		{CategoryInvalidOperation, 7, "InvalidOperation"},
		{CategoryNotImplemented, 11, "NotImplemented"},
		{CategoryObjectNotFound, 13, "ObjectNotFound"},
		{CategoryOperationStopped, 14, "OperationStopped"},
		{CategoryParserError, 17, "ParserError"},
		{CategoryPermissionDenied, 18, "PermissionDenied"},
		{CategoryWriteError, 23, "WriteError"},
		{ErrorCategory(29), 29, "LimitsExceeded"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.val, int32(tt.c), tt.name)
		assert.Equal(t, tt.name, tt.c.String())
	}
}

// ErrorCategory_Message as Windows writes it (the strings are from the
// recordings' decoded error records).
func TestCategoryMessage(t *testing.T) {
	tests := []struct {
		cat                                 ErrorCategory
		target, typ, activity, reason, want string
	}{
		{CategoryNotSpecified, "", "", "Write-Error", "WriteErrorException",
			"NotSpecified: (:) [Write-Error], WriteErrorException"},
		{CategoryOperationStopped, "The path at 'C:\\temp\\missing.txt' does not exist", "String", "", "RuntimeException",
			"OperationStopped: (The path at 'C:... does not exist:String) [], RuntimeException"},
		{CategoryParserError, "Set-Item -Path WSMan:\\localhost\\Service\\AllowUnencrypted -Value $false", "String", "", "ParseException",
			"ParserError: (Set-Item -Path ...d -Value $false:String) [], ParseException"},
		{CategoryObjectNotFound, "Get-Nothing", "String", "", "CommandNotFoundException",
			"ObjectNotFound: (Get-Nothing:String) [], CommandNotFoundException"},
		{ErrorCategory(29), "", "", "", "RuntimeException", "LimitsExceeded: (:) [], RuntimeException"},
		// exactly 40 characters: kept whole
		{CategoryInvalidData, "0123456789012345678901234567890123456789", "String", "", "X",
			"InvalidData: (0123456789012345678901234567890123456789:String) [], X"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, categoryMessage(tt.cat, tt.target, tt.typ, tt.activity, tt.reason))
	}
	// through the conversion used for every error record sent
	rec := toPSRPError(scriptErrorRecord(&syntaxError{errorID: "TerminatorExpectedAtEndOfString", msg: "bad"}))
	assert.Equal(t, "ParserError: (:) [], ParseException", rec.CategoryMessage)
	rec = toPSRPError(scriptErrorRecord(&limitError{what: "x"}))
	assert.Equal(t, "LimitsExceeded: (:) [], RuntimeException", rec.CategoryMessage)
}

// PowerShell names the command it could not find, not the whole script.
func TestFirstCommandName(t *testing.T) {
	tests := []struct{ script, want string }{
		{"Get-Nothing -Foo", "Get-Nothing"},
		{"  Get-Nothing\n'after'", "Get-Nothing"},
		{"Get-Process | Select-Object Name", "Get-Process"},
		{"# comment\n<# block #> Invoke-Thing -X 1", "Invoke-Thing"},
		{"$x = Get-Thing; $x", "Get-Thing"},
		{"'text'; 42; Do-It", "Do-It"},
		{"if ($true) { Get-Inner }", "Get-Inner"},
		{"foreach ($i in 1..3) { Get-Item $i }", "Get-Item"},
		{"(Get-Foo).Name", "Get-Foo"},
		{`.\script.ps1 -Arg 1`, `.\script.ps1`},
		{"[int]$x = 3; $x.Count", ""}, // no command: the caller names the script
		{"if ($true) { 'x' }", ""},
		{"", ""},
		{"'unterminated", "'unterminated"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, firstCommandName(tt.script), tt.script)
	}
}
