package psrp

import (
	"fmt"
	"strings"
)

// Enumerations used in PSRP message data. Each is a named Go integer type with
// the numeric values .NET (System.Management.Automation) puts on the wire, a
// String method returning the .NET member name, and the .NET type name used
// in the <TN> list when the value is serialized as an enum object.

// RunspacePoolState is the state of a runspace pool
// (System.Management.Automation.Runspaces.RunspacePoolState). Servers send
// 0-5 in RUNSPACEPOOL_STATE; 6-8 are client-local states that a .NET server
// never sends (MS-PSRP 3.2.5.4.9 lists the states a server sends).
//
// Note that MS-PSRP 2.2.3.4 numbers the states above Broken differently
// (6=NegotiationSent ... 9=Disconnected); the values here follow .NET, which
// is what Windows uses.
type RunspacePoolState int32

// RunspacePoolState values (.NET numbering).
const (
	RunspacePoolBeforeOpen    RunspacePoolState = 0
	RunspacePoolOpening       RunspacePoolState = 1
	RunspacePoolOpened        RunspacePoolState = 2
	RunspacePoolClosed        RunspacePoolState = 3
	RunspacePoolClosing       RunspacePoolState = 4
	RunspacePoolBroken        RunspacePoolState = 5
	RunspacePoolDisconnecting RunspacePoolState = 6
	RunspacePoolDisconnected  RunspacePoolState = 7
	RunspacePoolConnecting    RunspacePoolState = 8
)

var runspacePoolStateNames = []string{"BeforeOpen", "Opening", "Opened", "Closed", "Closing", "Broken",
	"Disconnecting", "Disconnected", "Connecting"}

// String returns the .NET member name.
func (s RunspacePoolState) String() string {
	return enumName(runspacePoolStateNames, int32(s), "RunspacePoolState")
}

// PSInvocationState is the state of a pipeline
// (System.Management.Automation.PSInvocationState), sent in PIPELINE_STATE.
type PSInvocationState int32

// PSInvocationState values.
const (
	PSInvocationNotStarted   PSInvocationState = 0
	PSInvocationRunning      PSInvocationState = 1
	PSInvocationStopping     PSInvocationState = 2
	PSInvocationStopped      PSInvocationState = 3
	PSInvocationCompleted    PSInvocationState = 4
	PSInvocationFailed       PSInvocationState = 5
	PSInvocationDisconnected PSInvocationState = 6
)

var psInvocationStateNames = []string{"NotStarted", "Running", "Stopping", "Stopped", "Completed", "Failed", "Disconnected"}

// String returns the .NET member name.
func (s PSInvocationState) String() string {
	return enumName(psInvocationStateNames, int32(s), "PSInvocationState")
}

// Terminal reports whether s is a final state (Stopped, Completed or Failed):
// the pipeline sends nothing more.
func (s PSInvocationState) Terminal() bool {
	return s == PSInvocationStopped || s == PSInvocationCompleted || s == PSInvocationFailed
}

// PSThreadOptions says how a runspace pool uses threads
// (System.Management.Automation.Runspaces.PSThreadOptions).
type PSThreadOptions int32

// PSThreadOptions values.
const (
	PSThreadOptionsDefault          PSThreadOptions = 0
	PSThreadOptionsUseNewThread     PSThreadOptions = 1
	PSThreadOptionsReuseThread      PSThreadOptions = 2
	PSThreadOptionsUseCurrentThread PSThreadOptions = 3
)

var psThreadOptionsNames = []string{"Default", "UseNewThread", "ReuseThread", "UseCurrentThread"}

// String returns the .NET member name.
func (o PSThreadOptions) String() string {
	return enumName(psThreadOptionsNames, int32(o), "PSThreadOptions")
}

// ApartmentState is the COM apartment of the runspace threads
// (System.Threading.ApartmentState; older clients name it
// System.Management.Automation.Runspaces.ApartmentState).
type ApartmentState int32

// ApartmentState values.
const (
	ApartmentSTA     ApartmentState = 0
	ApartmentMTA     ApartmentState = 1
	ApartmentUnknown ApartmentState = 2
)

var apartmentStateNames = []string{"STA", "MTA", "Unknown"}

// String returns the .NET member name.
func (a ApartmentState) String() string {
	return enumName(apartmentStateNames, int32(a), "ApartmentState")
}

// RemoteStreamOptions are flags asking the server to add invocation
// information to records (System.Management.Automation.RemoteStreamOptions).
type RemoteStreamOptions int32

// RemoteStreamOptions flags.
const (
	RemoteStreamNone                             RemoteStreamOptions = 0
	RemoteStreamAddInvocationInfoToErrorRecord   RemoteStreamOptions = 1
	RemoteStreamAddInvocationInfoToWarningRecord RemoteStreamOptions = 2
	RemoteStreamAddInvocationInfoToDebugRecord   RemoteStreamOptions = 4
	RemoteStreamAddInvocationInfoToVerboseRecord RemoteStreamOptions = 8
	RemoteStreamAddInvocationInfo                RemoteStreamOptions = 15
)

// String returns the .NET flags string ("None", "AddInvocationInfo", or a
// comma-separated list).
func (o RemoteStreamOptions) String() string {
	switch o {
	case RemoteStreamNone:
		return "None"
	case RemoteStreamAddInvocationInfo:
		return "AddInvocationInfo"
	}
	return flagNames(int32(o), []flagName{
		{1, "AddInvocationInfoToErrorRecord"}, {2, "AddInvocationInfoToWarningRecord"},
		{4, "AddInvocationInfoToDebugRecord"}, {8, "AddInvocationInfoToVerboseRecord"},
	}, "RemoteStreamOptions")
}

// PipelineResultTypes names a pipeline stream for the Merge* settings of a
// command (System.Management.Automation.Runspaces.PipelineResultTypes).
// Windows only accepts merging Error (or all streams) into Output, and
// MergePreviousResults only as Output|Error (3).
type PipelineResultTypes int32

// PipelineResultTypes values. The numbering is .NET's: the type is marked
// [Flags] but its members are consecutive, so only None, Output, Error and
// their union 3 (MergePreviousResults) combine meaningfully.
const (
	PipelineResultNone        PipelineResultTypes = 0
	PipelineResultOutput      PipelineResultTypes = 1
	PipelineResultError       PipelineResultTypes = 2
	PipelineResultWarning     PipelineResultTypes = 3
	PipelineResultVerbose     PipelineResultTypes = 4
	PipelineResultDebug       PipelineResultTypes = 5
	PipelineResultInformation PipelineResultTypes = 6
	PipelineResultAll         PipelineResultTypes = 7
	PipelineResultNull        PipelineResultTypes = 8
)

var pipelineResultTypesNames = []string{"None", "Output", "Error", "Warning", "Verbose", "Debug", "Information", "All", "Null"}

// String returns the member name. It is used as the informational
// <ToString> of the serialized value; for MergePreviousResults the value 3 is
// written "Output, Error", as clients do.
func (t PipelineResultTypes) String() string {
	return enumName(pipelineResultTypesNames, int32(t), "PipelineResultTypes")
}

// ProgressRecordType is System.Management.Automation.ProgressRecordType.
type ProgressRecordType int32

// ProgressRecordType values.
const (
	ProgressProcessing ProgressRecordType = 0
	ProgressCompleted  ProgressRecordType = 1
)

var progressRecordTypeNames = []string{"Processing", "Completed"}

// String returns the .NET member name.
func (t ProgressRecordType) String() string {
	return enumName(progressRecordTypeNames, int32(t), "ProgressRecordType")
}

// ErrorCategory is System.Management.Automation.ErrorCategory, the Category
// of an ErrorRecord's CategoryInfo.
type ErrorCategory int32

// ErrorCategory values.
const (
	ErrorCategoryNotSpecified ErrorCategory = iota
	ErrorCategoryOpenError
	ErrorCategoryCloseError
	ErrorCategoryDeviceError
	ErrorCategoryDeadlockDetected
	ErrorCategoryInvalidArgument
	ErrorCategoryInvalidData
	ErrorCategoryInvalidOperation
	ErrorCategoryInvalidResult
	ErrorCategoryInvalidType
	ErrorCategoryMetadataError
	ErrorCategoryNotImplemented
	ErrorCategoryNotInstalled
	ErrorCategoryObjectNotFound
	ErrorCategoryOperationStopped
	ErrorCategoryOperationTimeout
	ErrorCategorySyntaxError
	ErrorCategoryParserError
	ErrorCategoryPermissionDenied
	ErrorCategoryResourceBusy
	ErrorCategoryResourceExists
	ErrorCategoryResourceUnavailable
	ErrorCategoryReadError
	ErrorCategoryWriteError
	ErrorCategoryFromStdErr
	ErrorCategorySecurityError
	ErrorCategoryProtocolError
	ErrorCategoryConnectionError
	ErrorCategoryAuthenticationError
	ErrorCategoryLimitsExceeded
	ErrorCategoryQuotaExceeded
	ErrorCategoryNotEnabled
)

var errorCategoryNames = []string{"NotSpecified", "OpenError", "CloseError", "DeviceError", "DeadlockDetected",
	"InvalidArgument", "InvalidData", "InvalidOperation", "InvalidResult", "InvalidType", "MetadataError",
	"NotImplemented", "NotInstalled", "ObjectNotFound", "OperationStopped", "OperationTimeout", "SyntaxError",
	"ParserError", "PermissionDenied", "ResourceBusy", "ResourceExists", "ResourceUnavailable", "ReadError",
	"WriteError", "FromStdErr", "SecurityError", "ProtocolError", "ConnectionError", "AuthenticationError",
	"LimitsExceeded", "QuotaExceeded", "NotEnabled"}

// String returns the .NET member name.
func (c ErrorCategory) String() string {
	return enumName(errorCategoryNames, int32(c), "ErrorCategory")
}

// HostMethodID identifies a PSHost method in RUNSPACEPOOL_HOST_CALL /
// PIPELINE_HOST_CALL and their responses
// (System.Management.Automation.Remoting.RemoteHostMethodId, MS-PSRP 2.2.3.17).
type HostMethodID int32

// HostMethodID values of MS-PSRP 2.2.3.17.
const (
	HostGetName                          HostMethodID = 1
	HostGetVersion                       HostMethodID = 2
	HostGetInstanceID                    HostMethodID = 3
	HostGetCurrentCulture                HostMethodID = 4
	HostGetCurrentUICulture              HostMethodID = 5
	HostSetShouldExit                    HostMethodID = 6
	HostEnterNestedPrompt                HostMethodID = 7
	HostExitNestedPrompt                 HostMethodID = 8
	HostNotifyBeginApplication           HostMethodID = 9
	HostNotifyEndApplication             HostMethodID = 10
	HostReadLine                         HostMethodID = 11
	HostReadLineAsSecureString           HostMethodID = 12
	HostWrite1                           HostMethodID = 13
	HostWrite2                           HostMethodID = 14
	HostWriteLine1                       HostMethodID = 15
	HostWriteLine2                       HostMethodID = 16
	HostWriteLine3                       HostMethodID = 17
	HostWriteErrorLine                   HostMethodID = 18
	HostWriteDebugLine                   HostMethodID = 19
	HostWriteProgress                    HostMethodID = 20
	HostWriteVerboseLine                 HostMethodID = 21
	HostWriteWarningLine                 HostMethodID = 22
	HostPrompt                           HostMethodID = 23
	HostPromptForCredential1             HostMethodID = 24
	HostPromptForCredential2             HostMethodID = 25
	HostPromptForChoice                  HostMethodID = 26
	HostGetForegroundColor               HostMethodID = 27
	HostSetForegroundColor               HostMethodID = 28
	HostGetBackgroundColor               HostMethodID = 29
	HostSetBackgroundColor               HostMethodID = 30
	HostGetCursorPosition                HostMethodID = 31
	HostSetCursorPosition                HostMethodID = 32
	HostGetWindowPosition                HostMethodID = 33
	HostSetWindowPosition                HostMethodID = 34
	HostGetCursorSize                    HostMethodID = 35
	HostSetCursorSize                    HostMethodID = 36
	HostGetBufferSize                    HostMethodID = 37
	HostSetBufferSize                    HostMethodID = 38
	HostGetWindowSize                    HostMethodID = 39
	HostSetWindowSize                    HostMethodID = 40
	HostGetWindowTitle                   HostMethodID = 41
	HostSetWindowTitle                   HostMethodID = 42
	HostGetMaxWindowSize                 HostMethodID = 43
	HostGetMaxPhysicalWindowSize         HostMethodID = 44
	HostGetKeyAvailable                  HostMethodID = 45
	HostReadKey                          HostMethodID = 46
	HostFlushInputBuffer                 HostMethodID = 47
	HostSetBufferContents1               HostMethodID = 48
	HostSetBufferContents2               HostMethodID = 49
	HostGetBufferContents                HostMethodID = 50
	HostScrollBufferContents             HostMethodID = 51
	HostPushRunspace                     HostMethodID = 52
	HostPopRunspace                      HostMethodID = 53
	HostGetIsRunspacePushed              HostMethodID = 54
	HostGetRunspace                      HostMethodID = 55
	HostPromptForChoiceMultipleSelection HostMethodID = 56
)

var hostMethodNames = []string{"", "GetName", "GetVersion", "GetInstanceId", "GetCurrentCulture",
	"GetCurrentUICulture", "SetShouldExit", "EnterNestedPrompt", "ExitNestedPrompt", "NotifyBeginApplication",
	"NotifyEndApplication", "ReadLine", "ReadLineAsSecureString", "Write1", "Write2", "WriteLine1", "WriteLine2",
	"WriteLine3", "WriteErrorLine", "WriteDebugLine", "WriteProgress", "WriteVerboseLine", "WriteWarningLine",
	"Prompt", "PromptForCredential1", "PromptForCredential2", "PromptForChoice", "GetForegroundColor",
	"SetForegroundColor", "GetBackgroundColor", "SetBackgroundColor", "GetCursorPosition", "SetCursorPosition",
	"GetWindowPosition", "SetWindowPosition", "GetCursorSize", "SetCursorSize", "GetBufferSize", "SetBufferSize",
	"GetWindowSize", "SetWindowSize", "GetWindowTitle", "SetWindowTitle", "GetMaxWindowSize",
	"GetMaxPhysicalWindowSize", "GetKeyAvailable", "ReadKey", "FlushInputBuffer", "SetBufferContents1",
	"SetBufferContents2", "GetBufferContents", "ScrollBufferContents", "PushRunspace", "PopRunspace",
	"GetIsRunspacePushed", "GetRunspace", "PromptForChoiceMultipleSelection"}

// String returns the .NET member name (for example "ReadLine").
func (m HostMethodID) String() string {
	if m == 0 {
		return "HostMethodID(0)"
	}
	return enumName(hostMethodNames, int32(m), "HostMethodID")
}

// Voids reports whether the host method returns nothing, so that no
// *_HOST_RESPONSE message is sent for it (MS-PSRP 2.2.3.17: the Write*,
// Set*, Notify*, EnterNestedPrompt, ExitNestedPrompt, FlushInputBuffer,
// ScrollBufferContents and PushRunspace/PopRunspace methods).
func (m HostMethodID) Voids() bool {
	switch m {
	case HostSetShouldExit, HostEnterNestedPrompt, HostExitNestedPrompt, HostNotifyBeginApplication,
		HostNotifyEndApplication, HostWrite1, HostWrite2, HostWriteLine1, HostWriteLine2, HostWriteLine3,
		HostWriteErrorLine, HostWriteDebugLine, HostWriteProgress, HostWriteVerboseLine, HostWriteWarningLine,
		HostSetForegroundColor, HostSetBackgroundColor, HostSetCursorPosition, HostSetWindowPosition,
		HostSetCursorSize, HostSetBufferSize, HostSetWindowSize, HostSetWindowTitle, HostFlushInputBuffer,
		HostSetBufferContents1, HostSetBufferContents2, HostScrollBufferContents, HostPushRunspace,
		HostPopRunspace:
		return true
	}
	return false
}

// .NET type names written in the <TN> list of serialized enum values.
const (
	TypePSThreadOptions     = "System.Management.Automation.Runspaces.PSThreadOptions"
	TypeApartmentState      = "System.Threading.ApartmentState"
	TypeApartmentStateOld   = "System.Management.Automation.Runspaces.ApartmentState"
	TypeRemoteStreamOptions = "System.Management.Automation.RemoteStreamOptions"
	TypePipelineResultTypes = "System.Management.Automation.Runspaces.PipelineResultTypes"
	TypeProgressRecordType  = "System.Management.Automation.ProgressRecordType"
	TypeErrorCategory       = "System.Management.Automation.ErrorCategory"
	TypeHostMethodID        = "System.Management.Automation.Remoting.RemoteHostMethodId"
)

func enumName(names []string, v int32, typ string) string {
	if v >= 0 && int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

type flagName struct {
	bit  int32
	name string
}

func flagNames(v int32, flags []flagName, typ string) string {
	var parts []string
	rest := v
	for _, f := range flags {
		if rest&f.bit != 0 {
			parts = append(parts, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 || len(parts) == 0 {
		return fmt.Sprintf("%s(%d)", typ, v)
	}
	return strings.Join(parts, ", ")
}
