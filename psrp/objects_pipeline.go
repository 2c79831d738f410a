package psrp

import (
	"github.com/psremoting/psremoting/psrp/clixml"
)

// CommandParameter is one argument of a Command: a named parameter (Name
// set) or a positional argument (Name ""; written as <Nil N="N" />). A
// switch parameter is Name with Value clixml.Bool(true) (or nil, which is
// written as <Nil N="V" />).
type CommandParameter struct {
	// Name is the parameter name without the dash (the N property), ""
	// for a positional argument.
	Name string
	// Value is the argument (the V property); nil is written as <Nil>.
	Value clixml.Value
}

// Command is one command of a pipeline (MS-PSRP 2.2.3.12).
type Command struct {
	// Cmd is the command name, or the script text when IsScript is set.
	Cmd string
	// IsScript says Cmd is script text rather than a command name.
	IsScript bool
	// UseLocalScope is nil when unset (<Nil N="UseLocalScope" />).
	UseLocalScope *bool
	// MergeMyResult / MergeToResult redirect this command's results (only
	// Error, or All, into Output is supported by Windows);
	// MergePreviousResults merges unclaimed results of the previous commands
	// (only Output|Error, 3).
	MergeMyResult PipelineResultTypes
	// MergeToResult is the stream MergeMyResult goes to (Output or None).
	MergeToResult PipelineResultTypes
	// MergePreviousResults is None or Output|Error (3), see MergeMyResult.
	MergePreviousResults PipelineResultTypes
	// Per-stream merges into Output (protocol 2.2 and later; Information
	// from 2.3).
	MergeError PipelineResultTypes
	// MergeWarning is Output to merge warnings into Output, else None.
	MergeWarning PipelineResultTypes
	// MergeVerbose is Output to merge verbose records into Output, else
	// None.
	MergeVerbose PipelineResultTypes
	// MergeDebug is Output to merge debug records into Output, else None.
	MergeDebug PipelineResultTypes
	// MergeInformation is Output to merge information records into Output,
	// else None (protocol 2.3 and later).
	MergeInformation PipelineResultTypes
	// Args are the command's parameters and arguments, in order.
	Args []CommandParameter
	Raw  *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

func mergeValue(t PipelineResultTypes, previous bool) *clixml.Object {
	name := t.String()
	if previous && t == PipelineResultOutput|PipelineResultError {
		name = "Output, Error"
	}
	return EnumValue(TypePipelineResultTypes, name, int32(t))
}

// ToCLIXML encodes the command in the property order clients use.
func (c *Command) ToCLIXML() clixml.Value {
	if unchanged(c, c.Raw, DecodeCommand) {
		return c.Raw
	}
	var uls clixml.Value = clixml.Nil{}
	if c.UseLocalScope != nil {
		uls = clixml.Bool(*c.UseLocalScope)
	}
	args := make([]clixml.Value, 0, len(c.Args))
	for _, a := range c.Args {
		var n clixml.Value = clixml.Nil{}
		if a.Name != "" {
			n = clixml.String(a.Name)
		}
		args = append(args, msObject(prop("N", n), prop("V", a.Value)))
	}
	return keepUnknown(msObject(
		prop("Cmd", clixml.String(c.Cmd)),
		prop("IsScript", clixml.Bool(c.IsScript)),
		prop("UseLocalScope", uls),
		prop("MergeMyResult", mergeValue(c.MergeMyResult, false)),
		prop("MergeToResult", mergeValue(c.MergeToResult, false)),
		prop("MergePreviousResults", mergeValue(c.MergePreviousResults, true)),
		prop("Args", listObject(typePSObjectList, args)),
		prop("MergeError", mergeValue(c.MergeError, false)),
		prop("MergeWarning", mergeValue(c.MergeWarning, false)),
		prop("MergeVerbose", mergeValue(c.MergeVerbose, false)),
		prop("MergeDebug", mergeValue(c.MergeDebug, false)),
		prop("MergeInformation", mergeValue(c.MergeInformation, false)),
	), c.Raw)
}

// DecodeCommand decodes one command of a pipeline.
func DecodeCommand(v clixml.Value) (*Command, error) {
	r, err := newReader("Command", v)
	if err != nil {
		return nil, err
	}
	c := &Command{
		Cmd:                  r.str("Cmd", true),
		IsScript:             r.bool("IsScript", false),
		UseLocalScope:        r.optBool("UseLocalScope"),
		MergeMyResult:        PipelineResultTypes(r.int32("MergeMyResult", false)),
		MergeToResult:        PipelineResultTypes(r.int32("MergeToResult", false)),
		MergePreviousResults: PipelineResultTypes(r.int32("MergePreviousResults", false)),
		MergeError:           PipelineResultTypes(r.int32("MergeError", false)),
		MergeWarning:         PipelineResultTypes(r.int32("MergeWarning", false)),
		MergeVerbose:         PipelineResultTypes(r.int32("MergeVerbose", false)),
		MergeDebug:           PipelineResultTypes(r.int32("MergeDebug", false)),
		MergeInformation:     PipelineResultTypes(r.int32("MergeInformation", false)),
		Raw:                  r.o,
	}
	for _, a := range r.list("Args") {
		ar, err := newReader("Command argument", a)
		if err != nil {
			r.fail("Args", "%v", err)
			break
		}
		p := CommandParameter{Name: ar.str("N", false), Value: ar.get("V", false)}
		if p.Value == nil {
			p.Value = clixml.Nil{}
		}
		if ar.err != nil {
			r.fail("Args", "%v", ar.err)
		}
		c.Args = append(c.Args, p)
	}
	return c, r.err
}

// PowerShell is the pipeline description inside CREATE_PIPELINE (MS-PSRP
// 2.2.3.11).
//
// A pipeline has one or more statements (PowerShell.AddStatement), each a
// list of commands that the server runs on its own, in order, the output of
// every statement going to the pipeline's output. Windows PowerShell clients
// encode several statements as the recordings show
// (test_psrp_long_running_cmdlet.yml, test_client_execute_ps_environment.yml):
// ExtraCmds lists ALL statements, the first one included, and Cmds repeats
// the first statement (for servers that do not run statements). A single
// statement is in Cmds alone, with ExtraCmds <Nil>. Use NewPowerShell or
// SetStatements to fill both fields that way, and Statements to read them.
type PowerShell struct {
	// Cmds is the wire Cmds property: the first (or only) statement.
	Cmds []Command
	// ExtraCmds is the wire ExtraCmds property: nil (written as <Nil>) for a
	// single statement; with several statements, every statement in order,
	// the first one included (it is also in Cmds). A Windows server runs
	// ExtraCmds, not Cmds, when ExtraCmds is not empty.
	ExtraCmds [][]Command
	// IsNested is the PowerShell object's IsNested property: whether it
	// runs nested in another pipeline of the runspace.
	IsNested bool
	// History is the text added to the history (""; written as <Nil>).
	History string
	// RedirectShellErrorOutputPipe is the RedirectShellErrorOutputPipe
	// flag; PowerShell clients send false.
	RedirectShellErrorOutputPipe bool
	Raw                          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// NewPowerShell returns the pipeline description of the given statements,
// encoded as Windows PowerShell clients do (see SetStatements).
func NewPowerShell(statements ...[]Command) PowerShell {
	var p PowerShell
	p.SetStatements(statements...)
	return p
}

// SetStatements sets Cmds and ExtraCmds to the given statements as Windows
// PowerShell clients send them: one statement goes to Cmds alone (ExtraCmds
// nil); several go to ExtraCmds, all of them, with the first repeated in
// Cmds. Raw is cleared, so that ToCLIXML encodes the new statements.
func (p *PowerShell) SetStatements(statements ...[]Command) {
	p.Raw = nil
	p.Cmds, p.ExtraCmds = nil, nil
	if len(statements) == 0 {
		return
	}
	p.Cmds = statements[0]
	if len(statements) > 1 {
		p.ExtraCmds = statements
	}
}

// Statements returns the statements the server runs, in order: ExtraCmds
// when it is not empty, otherwise Cmds as the only statement (nil when both
// are empty).
func (p *PowerShell) Statements() [][]Command {
	if len(p.ExtraCmds) > 0 {
		return p.ExtraCmds
	}
	if len(p.Cmds) == 0 {
		return nil
	}
	return [][]Command{p.Cmds}
}

func commandList(cmds []Command) *clixml.Object {
	items := make([]clixml.Value, len(cmds))
	for i := range cmds {
		items[i] = cmds[i].ToCLIXML()
	}
	return listObject(typePSObjectList, items)
}

// ToCLIXML encodes the pipeline description. When ExtraCmds is set and
// Cmds is empty, the first statement of ExtraCmds is written as Cmds too, as
// Windows PowerShell clients write it.
func (p *PowerShell) ToCLIXML() clixml.Value {
	if unchanged(p, p.Raw, DecodePowerShell) {
		return p.Raw
	}
	cmds := p.Cmds
	if len(cmds) == 0 && len(p.ExtraCmds) > 0 {
		cmds = p.ExtraCmds[0]
	}
	var extra clixml.Value = clixml.Nil{}
	if p.ExtraCmds != nil {
		items := make([]clixml.Value, len(p.ExtraCmds))
		for i, st := range p.ExtraCmds {
			items[i] = msObject(prop("Cmds", commandList(st)))
		}
		extra = listObject(typePSObjectList, items)
	}
	var hist clixml.Value = clixml.Nil{}
	if p.History != "" {
		hist = clixml.String(p.History)
	}
	return keepUnknown(msObject(
		prop("IsNested", clixml.Bool(p.IsNested)),
		prop("ExtraCmds", extra),
		prop("Cmds", commandList(cmds)),
		prop("History", hist),
		prop("RedirectShellErrorOutputPipe", clixml.Bool(p.RedirectShellErrorOutputPipe)),
	), p.Raw)
}

func decodeCommands(r *reader, name string, items []clixml.Value) []Command {
	cmds := make([]Command, 0, len(items))
	for _, it := range items {
		c, err := DecodeCommand(it)
		if err != nil {
			r.fail(name, "%v", err)
			return cmds
		}
		cmds = append(cmds, *c)
	}
	return cmds
}

// DecodePowerShell decodes the PowerShell property of CREATE_PIPELINE.
func DecodePowerShell(v clixml.Value) (*PowerShell, error) {
	r, err := newReader("PowerShell", v)
	if err != nil {
		return nil, err
	}
	p := &PowerShell{
		IsNested:                     r.bool("IsNested", false),
		History:                      r.str("History", false),
		RedirectShellErrorOutputPipe: r.bool("RedirectShellErrorOutputPipe", false),
		Raw:                          r.o,
	}
	p.Cmds = decodeCommands(r, "Cmds", r.list("Cmds"))
	if extra := r.list("ExtraCmds"); extra != nil {
		p.ExtraCmds = make([][]Command, 0, len(extra))
		for _, st := range extra {
			sr, err := newReader("PowerShell.ExtraCmds statement", st)
			if err != nil {
				r.fail("ExtraCmds", "%v", err)
				break
			}
			p.ExtraCmds = append(p.ExtraCmds, decodeCommands(sr, "Cmds", sr.list("Cmds")))
			if sr.err != nil {
				r.fail("ExtraCmds", "%v", sr.err)
			}
		}
	}
	return p, r.err
}

// CreatePipeline is the data of CREATE_PIPELINE (MS-PSRP 2.2.2.10).
type CreatePipeline struct {
	// PowerShell is the pipeline to run (the PowerShell property).
	PowerShell PowerShell
	// NoInput says no PIPELINE_INPUT will follow.
	NoInput bool
	// ApartmentState is the COM apartment of the thread that runs the
	// pipeline (STA, MTA or Unknown).
	ApartmentState ApartmentState
	// ApartmentStateType is the enum's .NET type name ("" writes
	// TypeApartmentState).
	ApartmentStateType string
	// RemoteStreamOptions says which records get invocation information
	// added (flags; AddInvocationInfo, 15, for all).
	RemoteStreamOptions RemoteStreamOptions
	// AddToHistory says whether the pipeline goes into the runspace's
	// command history.
	AddToHistory bool
	// HostInfo describes the client's host for this pipeline.
	HostInfo HostInfo
	// IsNested is the CREATE_PIPELINE IsNested property: whether the
	// pipeline runs nested in another pipeline of the runspace.
	IsNested bool
	Raw      *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageCreatePipeline.
func (*CreatePipeline) MessageType() MessageType { return MessageCreatePipeline }

// ToCLIXML encodes the message in the property order clients use.
func (x *CreatePipeline) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeCreatePipeline) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("NoInput", clixml.Bool(x.NoInput)),
		prop("ApartmentState", apartmentValue(x.ApartmentState, x.ApartmentStateType)),
		prop("RemoteStreamOptions", EnumValue(TypeRemoteStreamOptions, x.RemoteStreamOptions.String(),
			int32(x.RemoteStreamOptions))),
		prop("AddToHistory", clixml.Bool(x.AddToHistory)),
		prop("HostInfo", x.HostInfo.ToCLIXML()),
		prop("PowerShell", x.PowerShell.ToCLIXML()),
		prop("IsNested", clixml.Bool(x.IsNested)),
	), x.Raw)
}

// DecodeCreatePipeline decodes CREATE_PIPELINE data.
func DecodeCreatePipeline(v clixml.Value) (*CreatePipeline, error) {
	r, err := newReader("CREATE_PIPELINE", v)
	if err != nil {
		return nil, err
	}
	x := &CreatePipeline{
		NoInput:             r.bool("NoInput", false),
		ApartmentState:      ApartmentState(r.int32("ApartmentState", false)),
		ApartmentStateType:  enumTypeName(r.get("ApartmentState", false)),
		RemoteStreamOptions: RemoteStreamOptions(r.int32("RemoteStreamOptions", false)),
		AddToHistory:        r.bool("AddToHistory", false),
		IsNested:            r.bool("IsNested", false),
		Raw:                 r.o,
	}
	if x.ApartmentStateType == TypeApartmentState {
		x.ApartmentStateType = ""
	}
	if hi := r.object("HostInfo", false); hi != nil {
		h, err := DecodeHostInfo(hi)
		if err != nil && r.err == nil {
			r.err = err
		}
		if h != nil {
			x.HostInfo = *h
		}
	}
	if ps := r.object("PowerShell", true); ps != nil {
		p, err := DecodePowerShell(ps)
		if err != nil && r.err == nil {
			r.err = err
		}
		if p != nil {
			x.PowerShell = *p
		}
	}
	return x, r.err
}

// GetCommandMetadata is the data of GET_COMMAND_METADATA (MS-PSRP 2.2.2.14).
type GetCommandMetadata struct {
	Name []string // wildcard patterns
	// CommandType is the System.Management.Automation.CommandTypes flags
	// (e.g. 511 for All in Windows PowerShell 5.1).
	CommandType  int32
	Namespace    []string       // nil for <Nil>
	ArgumentList []clixml.Value // nil for <Nil>
	Raw          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageGetCommandMetadata.
func (*GetCommandMetadata) MessageType() MessageType { return MessageGetCommandMetadata }

// ToCLIXML encodes the message.
func (x *GetCommandMetadata) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeGetCommandMetadata) {
		return x.Raw
	}
	strs := func(ss []string) []clixml.Value {
		out := make([]clixml.Value, len(ss))
		for i, s := range ss {
			out[i] = clixml.String(s)
		}
		return out
	}
	var ns, al clixml.Value = clixml.Nil{}, clixml.Nil{}
	if x.Namespace != nil {
		ns = listObject(typeObjectArray, strs(x.Namespace))
	}
	if x.ArgumentList != nil {
		al = listObject(typeObjectArray, x.ArgumentList)
	}
	return keepUnknown(msObject(
		prop("Name", listObject(typeStringArray, strs(x.Name))),
		prop("CommandType", clixml.Int32(x.CommandType)),
		prop("Namespace", ns),
		prop("ArgumentList", al),
	), x.Raw)
}

// DecodeGetCommandMetadata decodes GET_COMMAND_METADATA data.
func DecodeGetCommandMetadata(v clixml.Value) (*GetCommandMetadata, error) {
	r, err := newReader("GET_COMMAND_METADATA", v)
	if err != nil {
		return nil, err
	}
	return &GetCommandMetadata{
		Name:         r.strings("Name"),
		CommandType:  r.int32("CommandType", false),
		Namespace:    r.strings("Namespace"),
		ArgumentList: r.list("ArgumentList"),
		Raw:          r.o,
	}, r.err
}

// PipelineStateInfo is the data of PIPELINE_STATE (MS-PSRP 2.2.2.21).
type PipelineStateInfo struct {
	// State is the PipelineState property, the pipeline's new state.
	State PSInvocationState
	// Error is the ExceptionAsErrorRecord sent with Failed (and Stopped);
	// nil when absent.
	Error *ErrorRecord
	Raw   *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessagePipelineState.
func (*PipelineStateInfo) MessageType() MessageType { return MessagePipelineState }

// ToCLIXML encodes the message.
func (x *PipelineStateInfo) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodePipelineStateInfo) {
		return x.Raw
	}
	o := msObject(prop("PipelineState", clixml.Int32(x.State)))
	if x.Error != nil {
		o.Extended = append(o.Extended, prop("ExceptionAsErrorRecord", x.Error.ToCLIXML()))
	}
	return keepUnknown(o, x.Raw)
}

// DecodePipelineStateInfo decodes PIPELINE_STATE data.
func DecodePipelineStateInfo(v clixml.Value) (*PipelineStateInfo, error) {
	r, err := newReader("PIPELINE_STATE", v)
	if err != nil {
		return nil, err
	}
	x := &PipelineStateInfo{State: PSInvocationState(r.int32("PipelineState", true)), Raw: r.o}
	if eo := r.object("ExceptionAsErrorRecord", false); eo != nil {
		x.Error, err = DecodeErrorRecord(eo)
		if err != nil && r.err == nil {
			r.err = err
		}
	}
	return x, r.err
}

// PipelineInput is the data of PIPELINE_INPUT (MS-PSRP 2.2.2.17): one input
// object of any type.
type PipelineInput struct {
	// Value is the input object; nil is written as <Nil>.
	Value clixml.Value
}

// MessageType returns MessagePipelineInput.
func (*PipelineInput) MessageType() MessageType { return MessagePipelineInput }

// ToCLIXML returns the value (<Nil/> for nil).
func (x *PipelineInput) ToCLIXML() clixml.Value { return valueOrNil(x.Value) }

// PipelineOutput is the data of PIPELINE_OUTPUT (MS-PSRP 2.2.2.19): one
// output object of any type.
type PipelineOutput struct {
	// Value is the output object; nil is written as <Nil>.
	Value clixml.Value
}

// MessageType returns MessagePipelineOutput.
func (*PipelineOutput) MessageType() MessageType { return MessagePipelineOutput }

// ToCLIXML returns the value (<Nil/> for nil).
func (x *PipelineOutput) ToCLIXML() clixml.Value { return valueOrNil(x.Value) }

// EndOfPipelineInput is the (empty) data of END_OF_PIPELINE_INPUT (MS-PSRP
// 2.2.2.18).
type EndOfPipelineInput struct{}

// MessageType returns MessageEndOfPipelineInput.
func (*EndOfPipelineInput) MessageType() MessageType { return MessageEndOfPipelineInput }

// ToCLIXML returns nil: the message has no data.
func (*EndOfPipelineInput) ToCLIXML() clixml.Value { return nil }

func valueOrNil(v clixml.Value) clixml.Value {
	if v == nil {
		return clixml.Nil{}
	}
	return v
}
