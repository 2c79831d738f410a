package wsmantest

import (
	"time"

	"github.com/psremoting/psremoting/psrp"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// ErrorCategory is System.Management.Automation.ErrorCategory (the values
// of psrp.ErrorCategory).
type ErrorCategory int32

// Error categories most used by handlers and the built-ins (the .NET
// values; any psrp.ErrorCategory value converts).
const (
	CategoryNotSpecified     = ErrorCategory(psrp.ErrorCategoryNotSpecified)
	CategoryInvalidArgument  = ErrorCategory(psrp.ErrorCategoryInvalidArgument)
	CategoryInvalidData      = ErrorCategory(psrp.ErrorCategoryInvalidData)
	CategoryInvalidOperation = ErrorCategory(psrp.ErrorCategoryInvalidOperation)
	CategoryNotImplemented   = ErrorCategory(psrp.ErrorCategoryNotImplemented)
	CategoryObjectNotFound   = ErrorCategory(psrp.ErrorCategoryObjectNotFound)
	CategoryOperationStopped = ErrorCategory(psrp.ErrorCategoryOperationStopped)
	CategoryPermissionDenied = ErrorCategory(psrp.ErrorCategoryPermissionDenied)
	CategoryParserError      = ErrorCategory(psrp.ErrorCategoryParserError)
	CategoryWriteError       = ErrorCategory(psrp.ErrorCategoryWriteError)
)

// String returns the .NET name of the category.
func (c ErrorCategory) String() string { return psrp.ErrorCategory(c).String() }

// ErrorRecord is a PowerShell error record written by a handler
// (Invocation.WriteError) or returned by it to fail the pipeline. It also
// implements error.
type ErrorRecord struct {
	// Message is the exception message, shown to the user.
	Message string
	// ExceptionType is the .NET type of the exception, most derived first;
	// empty means Microsoft.PowerShell.Commands.WriteErrorException (what
	// Write-Error produces).
	ExceptionType string
	// FullyQualifiedErrorID is the error id, for example
	// "CommandNotFoundException"; empty means
	// "Microsoft.PowerShell.Commands.WriteErrorException".
	FullyQualifiedErrorID string
	// Category is the error category (CategoryInfo.Category).
	Category ErrorCategory
	// CategoryActivity is the command that failed, shown in brackets in
	// the category message, for example "Write-Error" (empty for none).
	CategoryActivity string
	// CategoryReason is the short reason, by default the exception type's
	// name without its namespace.
	CategoryReason string
	// TargetName and TargetType describe the target object, for example
	// "Get-Foo" and "String" (empty for none).
	TargetName string
	// TargetType is the type name of the target (see TargetName).
	TargetType string
	// TargetObject is the object the error is about (nil for none).
	TargetObject clixml.Value
}

// Error returns the message.
func (e *ErrorRecord) Error() string { return e.Message }

// CommandNotFoundError returns the error record PowerShell writes when a
// command name cannot be resolved.
func CommandNotFoundError(name string) *ErrorRecord {
	return &ErrorRecord{
		Message: "The term '" + name + "' is not recognized as the name of a cmdlet, function, script file, or operable program. " +
			"Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
		ExceptionType:         "System.Management.Automation.CommandNotFoundException",
		FullyQualifiedErrorID: "CommandNotFoundException",
		Category:              CategoryObjectNotFound,
		CategoryReason:        "CommandNotFoundException",
		TargetName:            name,
		TargetType:            "String",
		TargetObject:          clixml.String(name),
	}
}

// InformationRecord is an information stream record (Write-Information,
// Write-Host).
type InformationRecord struct {
	// MessageData is the object written (nil is sent as $null).
	MessageData clixml.Value
	// Source is the command that wrote it, for example "Write-Information".
	Source string
	// Tags are the record's tags (Write-Host uses "PSHOST").
	Tags []string
	// TimeGenerated is when it was written.
	TimeGenerated time.Time
	// User is the user name shown with the record.
	User string
	// Computer is the computer name shown with the record.
	Computer string
}

// ProgressRecord is a progress record (Write-Progress).
type ProgressRecord struct {
	// Activity is the activity's description (Write-Progress -Activity).
	Activity string
	// ActivityID identifies the activity (Write-Progress -Id).
	ActivityID int32
	// ParentActivityID is the parent activity's id, -1 for none.
	ParentActivityID int32
	// StatusDescription is the current status (Write-Progress -Status).
	StatusDescription string
	CurrentOperation  string // empty for none
	PercentComplete   int32  // -1 for unknown
	SecondsRemaining  int32  // -1 for unknown
	Completed         bool   // RecordType Completed instead of Processing
}

// HostCall is a call of a PowerShell host method (MS-PSRP 2.2.3.17), made
// with Invocation.HostCall.
type HostCall struct {
	// MethodID is the RemoteHostMethodId, for example 11 for ReadLine or 16
	// for WriteLine2 (15 is WriteLine1, the empty line; MS-PSRP 2.2.3.17).
	MethodID int32
	// MethodName is its name, for example "ReadLine" (the ToString of the
	// enum).
	MethodName string
	// Parameters are the method's arguments.
	Parameters []clixml.Value
}
