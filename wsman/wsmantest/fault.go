package wsmantest

import (
	"fmt"
	"strings"

	"github.com/psremoting/psremoting/wsman"
)

// Fault is a WS-Management fault the server answers with (HTTP 500 and a
// SOAP fault whose detail holds a WSManFault with Windows's error code). Use
// the constructors below or build one for Injection.Fault.
type Fault struct {
	// Receiver selects the SOAP code s:Receiver (server-side failures such
	// as w:TimedOut); false gives s:Sender.
	Receiver bool
	// Subcode is the qualified subcode, for example "w:InvalidSelectors"
	// (prefix w: = WS-Management, a: = WS-Addressing).
	Subcode string
	// Reason is the s:Reason text.
	Reason string
	// Detail is the optional w:FaultDetail URI.
	Detail string
	// Code is the WSManFault Code attribute (a Windows error code).
	Code uint32
	// Message is the f:Message text (Reason when empty).
	Message string
	// Provider, when set, wraps Message in an f:ProviderFault of that
	// provider (for example "Shell cmd plugin") and ProviderPath.
	Provider, ProviderPath string
	// NestedFault repeats the WSManFault inside the ProviderFault, as
	// Windows does for the shell provider's InvalidSelectors fault.
	NestedFault bool
	// HTTPStatus is the HTTP status (default 500).
	HTTPStatus int
}

// Error describes the fault.
func (f *Fault) Error() string {
	return fmt.Sprintf("wsmantest: fault %s (code %d): %s", f.Subcode, f.Code, f.Reason)
}

// Windows error codes used in faults (wsmerror.h).
const (
	CodeAccessDenied                 uint32 = 5
	CodeInvalidParameter             uint32 = 87
	CodeResourceNotFound             uint32 = 2150858752 // 0x80338000 ERROR_WSMAN_RESOURCE_NOT_FOUND
	CodeInvalidMessageInformationHdr uint32 = 2150858767 // 0x8033800F
	CodeOperationTimedOut            uint32 = 2150858793 // 0x80338029
	CodeUnsupportedFeature           uint32 = 2150858771 // 0x80338013
	CodeUnexpectedSelectors          uint32 = 2150858843 // 0x8033805B (shell / command not found)
	CodeInvalidSelectors             uint32 = 2150858843
	CodeQuotaMaxShellsPerUser        uint32 = 2150859174 // 0x803381A6
	CodeMaxEnvelopeSizeExceeded      uint32 = 2150858824 // 0x80338048
	CodeShellDisconnected            uint32 = 2150859204 // 0x803381C4
	CodeClientSessionIDMismatch      uint32 = 2150859206 // 0x803381C6
	CodeShellConnectedToOtherClient  uint32 = 2150859213 // 0x803381CD
	CodeReconnectOperationNotValid   uint32 = 2150859216 // 0x803381D0
	CodeCommandReconnectNotValid     uint32 = 2150859219 // 0x803381D3
	CodeCommandDisconnectNotValid    uint32 = 2150859224 // 0x803381D8
	CodeInvalidEnumerationContext    uint32 = 2150858819 // 0x80338043 ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT (not captured)
)

const faultDetailBase = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

// FaultTimedOut is the w:TimedOut fault of a Receive that got no output
// within the OperationTimeout (as captured from Windows).
func FaultTimedOut() *Fault {
	const msg = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
	return &Fault{Receiver: true, Subcode: "w:TimedOut", Reason: msg, Code: CodeOperationTimedOut}
}

// FaultShellNotFound is the w:InvalidSelectors fault for an unknown ShellId
// (as captured from Windows).
func FaultShellNotFound() *Fault {
	const msg = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "
	return &Fault{Subcode: "w:InvalidSelectors", Reason: msg, Detail: faultDetailBase + "UnexpectedSelectors",
		Code: CodeUnexpectedSelectors, Message: msg, Provider: "Shell provider", ProviderPath: `%systemroot%\system32\WsmSvc.dll`,
		NestedFault: true}
}

// FaultCommandNotFound is the w:InvalidSelectors fault for an unknown
// CommandId (as captured from Windows).
func FaultCommandNotFound() *Fault {
	return &Fault{Subcode: "w:InvalidSelectors",
		Reason: "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ",
		Detail: faultDetailBase + "UnexpectedSelectors", Code: CodeUnexpectedSelectors,
		Message: "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. " +
			"Either the command has completed execution or the client specified an invalid command identifier. "}
}

// FaultShellBusy is the fault for a Connect or Reconnect to a shell that is
// connected to another client (ERROR_WINRS_SHELL_CONNECTED_TO_DIFFERENT_CLIENT;
// the exact envelope is not captured from Windows).
func FaultShellBusy(shellID string) *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError",
		Reason: "The WS-Management service cannot process the request. The shell " + shellID +
			" is connected to a different client. ",
		Code: CodeShellConnectedToOtherClient}
}

// FaultSessionMismatch is the fault for a Reconnect from a client session
// other than the one that disconnected the shell
// (ERROR_WINRS_SHELL_CLIENTSESSIONID_MISMATCH; envelope not captured).
func FaultSessionMismatch() *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError",
		Reason: "The WS-Management service cannot process the request because the client session ID does not match the session that disconnected the shell. Use Connect from a new client instead. ",
		Code:   CodeClientSessionIDMismatch}
}

// FaultShellDisconnected is the fault for an operation other than Reconnect,
// Connect, Get, Delete or Enumerate on a disconnected shell
// (ERROR_WINRS_SHELL_DISCONNECTED; envelope not captured).
func FaultShellDisconnected() *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError",
		Reason: "The WS-Management service cannot process the request because the shell is disconnected. Reconnect or connect to the shell first. ",
		Code:   CodeShellDisconnected}
}

// FaultInvalidState is the fault for a Disconnect or Reconnect that is not
// valid in the shell's state (ERROR_WINRS_SHELL_RECONNECT_OPERATION_NOT_VALID).
func FaultInvalidState(what string) *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError",
		Reason: "The WS-Management service cannot process the " + what + " request because the shell is not in a state that allows it. ",
		Code:   CodeReconnectOperationNotValid}
}

// FaultAccessDenied is the w:AccessDenied fault (a shell of another user).
func FaultAccessDenied() *Fault {
	return &Fault{Subcode: "w:AccessDenied", Reason: "Access is denied. ", Code: CodeAccessDenied}
}

// FaultUnknownResource is the fault for a resource URI the server does not
// serve, such as an unknown PowerShell configuration name (the Windows code
// ERROR_WSMAN_RESOURCE_NOT_FOUND; the envelope is from memory, not captured).
func FaultUnknownResource(uri string) *Fault {
	return &Fault{Subcode: "w:DestinationUnreachable",
		Reason: "The WS-Management service cannot process the request. The resource URI (" + uri + ") was not found in the WS-Management catalog. ",
		Detail: faultDetailBase + "InvalidResourceURI", Code: CodeResourceNotFound}
}

// FaultInvalidHeader is the a:InvalidMessageInformationHeader fault (as
// captured for a bad OperationTimeout).
func FaultInvalidHeader(detail string) *Fault {
	return &Fault{Subcode: "a:InvalidMessageInformationHeader",
		Reason:  "The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers. ",
		Message: "The WS-Management service cannot process the request. " + detail + " ",
		Code:    CodeInvalidMessageInformationHdr}
}

// FaultInvalidParameter is the w:InvalidParameter fault (as captured from
// the cmd plugin).
func FaultInvalidParameter() *Fault {
	return &Fault{Subcode: "w:InvalidParameter", Reason: "The parameter is incorrect. ",
		Detail: faultDetailBase + "InvalidValue", Code: CodeInvalidParameter,
		Provider: "Shell cmd plugin", ProviderPath: `%systemroot%\system32\winrscmd.dll`}
}

// FaultActionNotSupported is the a:ActionNotSupported fault.
func FaultActionNotSupported(action string) *Fault {
	return &Fault{Subcode: "a:ActionNotSupported",
		Reason: "The action is not supported by the service. " + action + " ", Code: CodeUnsupportedFeature}
}

// FaultEnvelopeTooLarge is the fault for a request larger than the server's
// MaxEnvelopeSize (which of the related codes Windows uses is not verified).
func FaultEnvelopeTooLarge() *Fault {
	return &Fault{Subcode: "w:EncodingLimit",
		Reason: "The WS-Management service cannot process the request because the request size exceeded the configured MaxEnvelopeSize quota. ",
		Detail: faultDetailBase + "MaxEnvelopeSize", Code: CodeMaxEnvelopeSizeExceeded}
}

// FaultQuota is the fault for too many shells of one user.
func FaultQuota() *Fault {
	return &Fault{Subcode: "w:QuotaLimit",
		Reason: "The WS-Management service cannot process the request. This user is allowed a maximum number of shells, which has been exceeded. ",
		Code:   CodeQuotaMaxShellsPerUser}
}

// FaultInvalidEnumerationContext is the fault for a Pull with an unknown or
// expired EnumerationContext.
func FaultInvalidEnumerationContext() *Fault {
	return &Fault{Subcode: "n:InvalidEnumerationContext",
		Reason: "The WS-Management service cannot process the request because the enumeration context is not valid. ",
		Code:   CodeInvalidEnumerationContext}
}

// FaultSchemaValidation is the w:SchemaValidationError fault for a request
// body the server cannot read (as captured from a PowerShell 7.4 endpoint).
func FaultSchemaValidation(detail string) *Fault {
	return &Fault{Subcode: "w:SchemaValidationError",
		Reason:  "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ",
		Message: "The Windows Remote Shell cannot process the request. " + detail + " ",
		Code:    CodeSchemaValidation}
}

// CodeSchemaValidation is ERROR_WSMAN_SCHEMA_VALIDATION_ERROR (0x80338041).
const CodeSchemaValidation uint32 = 2150858817

// subcodeNamespaces maps the prefixes used in fault subcodes to their
// namespaces.
var subcodeNamespaces = map[string]string{
	"w": wsman.NSWSMan,
	"a": wsman.NSAddressing,
	"n": wsman.NSEnumeration,
	"p": wsman.NSWSManMS,
}

// wsmanFault converts f to the wsman package's fault type.
func (f *Fault) wsmanFault(machine string) *wsman.Fault {
	code := "s:Sender"
	if f.Receiver {
		code = "s:Receiver"
	}
	msg := f.Message
	if msg == "" {
		msg = f.Reason
	}
	wf := &wsman.WSManFault{Code: f.Code, HasCode: true, Machine: machine}
	switch {
	case f.Provider != "" && f.NestedFault:
		wf.ProviderFault = &wsman.ProviderFault{Provider: f.Provider, Path: f.ProviderPath,
			Fault: &wsman.WSManFault{Code: f.Code, HasCode: true, Machine: machine, Message: msg}}
	case f.Provider != "":
		wf.ProviderFault = &wsman.ProviderFault{Provider: f.Provider, Path: f.ProviderPath, Text: msg}
	default:
		wf.Message = msg
	}
	return &wsman.Fault{Code: code, Subcode: f.Subcode, Reason: f.Reason, Detail: f.Detail, WSManFault: wf}
}

// element builds the s:Fault body element in the shape Windows sends.
func (f *Fault) element(machine string) *wsman.Element {
	el := f.wsmanFault(machine).Element()
	if i := strings.IndexByte(f.Subcode, ':'); i > 0 {
		if ns, ok := subcodeNamespaces[f.Subcode[:i]]; ok {
			// The subcode is a QName in element text: make sure its
			// prefix is declared in scope (Windows declares it on the
			// envelope).
			el.SetAttr("xmlns", f.Subcode[:i], ns)
		}
	}
	return el
}

// CodeFileNotFound is the Win32 ERROR_FILE_NOT_FOUND as an HRESULT
// (0x80070002).
const CodeFileNotFound uint32 = 2147942402

// FaultFileNotFound is the fault of a cmd-shell Command with
// WINRS_SKIP_CMD_SHELL whose program does not exist (as captured from
// Windows).
func FaultFileNotFound() *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError", Reason: "The system cannot find the file specified. ",
		Code: CodeFileNotFound, Provider: "Shell cmd plugin", ProviderPath: `%systemroot%\system32\winrscmd.dll`}
}
