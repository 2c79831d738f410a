package wsman

// Namespace URIs used by WS-Management and WinRM shells.
const (
	NSSoap        = "http://www.w3.org/2003/05/soap-envelope"
	NSAddressing  = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NSTransfer    = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	NSEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
	NSEventing    = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
	NSWSMan       = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	NSWSManMS     = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	NSShell       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	NSWSManFault  = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	NSConfig      = "http://schemas.microsoft.com/wbem/wsman/1/config"
	NSPowerShell  = "http://schemas.microsoft.com/powershell"
	NSXML         = "http://www.w3.org/XML/1998/namespace"
	NSXSI         = "http://www.w3.org/2001/XMLSchema-instance"
)

// prefixes are the prefixes Windows uses in its envelopes; the writer uses
// them for requests and responses alike. Order is declaration order.
var prefixes = []struct{ prefix, uri string }{
	{"s", NSSoap},
	{"a", NSAddressing},
	{"x", NSTransfer},
	{"n", NSEnumeration},
	{"e", NSEventing},
	{"w", NSWSMan},
	{"p", NSWSManMS},
	{"rsp", NSShell},
	{"f", NSWSManFault},
	{"cfg", NSConfig},
	{"xsi", NSXSI},
}

// Action URIs.
const (
	ActionCreate     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	ActionDelete     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	ActionGet        = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
	ActionPut        = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
	ActionEnumerate  = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
	ActionPull       = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
	ActionRelease    = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
	ActionCommand    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	ActionSend       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	ActionReceive    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	ActionSignal     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	ActionDisconnect = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Disconnect"
	ActionReconnect  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Reconnect"
	ActionConnect    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Connect"

	// ActionFault is the Action of WS-Management fault responses;
	// ActionAddressingFault is the WS-Addressing one some faults use.
	ActionFault           = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	ActionAddressingFault = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
)

// ResponseAction returns the Action URI of the response to a request action
// (the request action with "Response" appended).
func ResponseAction(action string) string { return action + "Response" }

// Resource URIs.
const (
	// ResourceShell is the resource URI of shells for Get and Enumerate.
	ResourceShell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	// ResourceCommand is the resource URI for enumerating a shell's commands.
	ResourceCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	// ResourceCmd is the WinRS cmd.exe shell.
	ResourceCmd = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	// ResourceConfig is WinRM's configuration (Get it to read MaxEnvelopeSizekb).
	ResourceConfig = "http://schemas.microsoft.com/wbem/wsman/1/config"
	// PowerShellResourcePrefix prefixes a PowerShell configuration name.
	PowerShellResourcePrefix = "http://schemas.microsoft.com/powershell/"
	// DefaultConfigurationName is PowerShell's default session configuration.
	DefaultConfigurationName = "Microsoft.PowerShell"
)

// PowerShellResourceURI returns the resource URI of a PowerShell session
// configuration ("" means Microsoft.PowerShell). A name that already is a
// full URI (contains "://") is returned unchanged.
func PowerShellResourceURI(configurationName string) string {
	if configurationName == "" {
		configurationName = DefaultConfigurationName
	}
	for i := 0; i+2 < len(configurationName); i++ {
		if configurationName[i:i+3] == "://" {
			return configurationName
		}
	}
	return PowerShellResourcePrefix + configurationName
}

// AnonymousAddress is the WS-Addressing anonymous role used in ReplyTo and in
// the To header of responses.
const AnonymousAddress = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

// Signal codes.
const (
	// SignalTerminate closes a command (frees it on the server).
	SignalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
	// SignalPowerShellStop stops a running PowerShell pipeline. The spelling
	// "crtl_c" is what MS-PSRP 3.1.5.3.9 mandates, what PowerShell's client
	// sends and what the Windows server plugin compares against ordinally;
	// any other code (another case, "ctrl_c", SignalCtrlC) closes the
	// command instead, and the next Receive for it fails with fault
	// 2150858843 (ErrShellNotFound). See Client.StopPipeline.
	SignalPowerShellStop = "powershell/signal/crtl_c"
	// SignalCtrlC is the WinRS Ctrl+C signal for cmd shells (MS-WSMV
	// 2.2.5.6). On a PowerShell command it is not a stop: Windows closes
	// the command.
	SignalCtrlC = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
	// SignalCtrlBreak is the WinRS Ctrl+Break signal for cmd shells.
	SignalCtrlBreak = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break"
)

// Command states reported in rsp:CommandState/@State.
const (
	CommandStateDone    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	CommandStatePending = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Pending"
	CommandStateRunning = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
)

// Output buffering modes of a disconnected shell.
const (
	BufferModeBlock = "Block"
	BufferModeDrop  = "Drop"
)

// Shell states reported by Get and Enumerate.
const (
	ShellStateConnected    = "Connected"
	ShellStateDisconnected = "Disconnected"
)

// Option names.
const (
	OptionProtocolVersion  = "protocolversion"
	OptionKeepAlive        = "WSMAN_CMDSHELL_OPTION_KEEPALIVE"
	OptionNoProfile        = "WINRS_NOPROFILE"
	OptionCodePage         = "WINRS_CODEPAGE"
	OptionSkipCmdShell     = "WINRS_SKIP_CMD_SHELL"
	OptionConsoleModeStdin = "WINRS_CONSOLEMODE_STDIN"
)

// Selector and filter names.
const (
	SelectorShellID       = "ShellId"
	DialectSelectorFilter = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
)

// Stream names.
const (
	StreamStdin  = "stdin"
	StreamStdout = "stdout"
	StreamStderr = "stderr"
	// StreamPR carries PSRP host responses to the pool or a pipeline.
	StreamPR = "pr"
)
