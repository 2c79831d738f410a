package psrp

import (
	"fmt"
	"strings"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// The answer to GET_COMMAND_METADATA (MS-PSRP 3.1.4.11 / 2.2.2.14): the
// pipeline's output is one CommandMetadataCount and then one CommandMetadata
// per command, as PIPELINE_OUTPUT messages (test_psrp_get_command_metadata.yml).

// CommandType is System.Management.Automation.CommandTypes (MS-PSRP
// 2.2.3.19), a set of flags. GetCommandMetadata.CommandType carries it as
// an int32.
type CommandType int32

// The CommandTypes flags of Windows PowerShell 5.1.
const (
	CommandTypeAlias          CommandType = 0x0001
	CommandTypeFunction       CommandType = 0x0002
	CommandTypeFilter         CommandType = 0x0004
	CommandTypeCmdlet         CommandType = 0x0008
	CommandTypeExternalScript CommandType = 0x0010
	CommandTypeApplication    CommandType = 0x0020
	CommandTypeScript         CommandType = 0x0040
	CommandTypeWorkflow       CommandType = 0x0080
	CommandTypeConfiguration  CommandType = 0x0100
	// CommandTypeAll is every type: what Windows PowerShell 5.1 sends for
	// Get-Command without -CommandType (511).
	CommandTypeAll CommandType = 0x01FF
)

var commandTypeNames = []struct {
	t    CommandType
	name string
}{
	{CommandTypeAlias, "Alias"}, {CommandTypeFunction, "Function"}, {CommandTypeFilter, "Filter"},
	{CommandTypeCmdlet, "Cmdlet"}, {CommandTypeExternalScript, "ExternalScript"},
	{CommandTypeApplication, "Application"}, {CommandTypeScript, "Script"}, {CommandTypeWorkflow, "Workflow"},
	{CommandTypeConfiguration, "Configuration"},
}

// String returns the .NET form: "All" for CommandTypeAll, member names
// joined by ", " for other combinations, the number for unknown bits.
func (t CommandType) String() string {
	if t == CommandTypeAll {
		return "All"
	}
	var parts []string
	rest := t
	for _, n := range commandTypeNames {
		if t&n.t != 0 {
			parts = append(parts, n.name)
			rest &^= n.t
		}
	}
	if rest != 0 || len(parts) == 0 {
		return fmt.Sprint(int32(t))
	}
	return strings.Join(parts, ", ")
}

// infoType is the System.Management.Automation type describing a command of
// type t (CmdletInfo, FunctionInfo, ...), whose "Selected." form names a
// CommandMetadata object.
func (t CommandType) infoType() string {
	for _, n := range commandTypeNames {
		if t == n.t {
			return "System.Management.Automation." + n.name + "Info"
		}
	}
	return "System.Management.Automation.CommandInfo"
}

const (
	typeCommandTypes         = "System.Management.Automation.CommandTypes"
	typePSCustomObject       = "System.Management.Automation.PSCustomObject"
	typeCommandMetadataCount = "Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo"
	typeParameterMetadata    = "System.Management.Automation.ParameterMetadata"
	typeOutputTypes          = "System.Collections.ObjectModel.ReadOnlyCollection`1[[System.Management.Automation.PSTypeName, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeParameterDictionary  = "System.Collections.Generic.Dictionary`2[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089],[System.Management.Automation.ParameterMetadata, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeAliasCollection      = "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]"
)

// CommandMetadataCount is the first output object of a GET_COMMAND_METADATA
// pipeline (MS-PSRP 2.2.3.21): how many CommandMetadata objects follow.
type CommandMetadataCount struct {
	Count int32
	Raw   *clixml.Object // decoded value, nil when built in Go
}

// ToCLIXML encodes the object as Windows does: a
// Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo with an I32
// Count note property.
func (x *CommandMetadataCount) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeCommandMetadataCount) {
		return x.Raw
	}
	o := msObject(prop("Count", clixml.Int32(x.Count)))
	o.TypeNames = []string{typeCommandMetadataCount, typePSCustomObject, typeObject}
	return keepUnknown(o, x.Raw)
}

// DecodeCommandMetadataCount decodes a CommandMetadataCount; the Count
// property is required.
func DecodeCommandMetadataCount(v clixml.Value) (*CommandMetadataCount, error) {
	r, err := newReader("CommandMetadataCount", v)
	if err != nil {
		return nil, err
	}
	x := &CommandMetadataCount{Count: r.int32("Count", true), Raw: r.o}
	if r.err == nil && x.Count < 0 {
		r.fail("Count", "negative count %d", x.Count)
	}
	return x, r.err
}

// CommandMetadata describes one command in the answer to
// GET_COMMAND_METADATA (MS-PSRP 2.2.3.22): the properties Windows selects
// from the command's CommandInfo.
type CommandMetadata struct {
	Name      string
	Namespace string // the module name; "" for none
	HelpURI   string // HelpUri
	// CommandType is a single CommandTypes member.
	CommandType CommandType
	// ResolvedCommandName is what an alias resolves to; "" (sent as <Nil>)
	// for other commands.
	ResolvedCommandName string
	// OutputType lists the type names of the command's [OutputType()].
	OutputType []string
	// Parameters lists the parameters in the order sent.
	Parameters []ParameterMetadata
	Raw        *clixml.Object // decoded value, nil when built in Go
}

// ParameterMetadata describes one parameter of a command (MS-PSRP 2.2.3.23).
type ParameterMetadata struct {
	Name          string
	ParameterType string // a .NET type name, e.g. "System.String[]"
	Aliases       []string
	IsDynamic     bool
	// SwitchParameter reports a switch (ParameterType
	// System.Management.Automation.SwitchParameter).
	SwitchParameter bool
}

// ToCLIXML encodes the object in the shape Windows PowerShell 5.1 sends
// (test_psrp_get_command_metadata.yml): type names
// Selected.System.Management.Automation.<Type>Info, PSCustomObject, Object
// and the note properties Name, Namespace, HelpUri, CommandType,
// ResolvedCommandName, OutputType and Parameters, in that order.
func (x *CommandMetadata) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeCommandMetadata) {
		return x.Raw
	}
	var resolved clixml.Value = clixml.Nil{}
	if x.ResolvedCommandName != "" {
		resolved = clixml.String(x.ResolvedCommandName)
	}
	outputs := make([]clixml.Value, len(x.OutputType))
	for i, s := range x.OutputType {
		outputs[i] = clixml.String(s)
	}
	params := &clixml.Object{TypeNames: []string{typeParameterDictionary, typeObject}, Kind: clixml.Dictionary,
		Entries: make([]clixml.DictEntry, 0, len(x.Parameters))}
	for _, p := range x.Parameters {
		params.Entries = append(params.Entries, clixml.DictEntry{Key: clixml.String(p.Name), Value: p.toCLIXML()})
	}
	o := msObject(
		prop("Name", clixml.String(x.Name)),
		prop("Namespace", clixml.String(x.Namespace)),
		prop("HelpUri", clixml.String(x.HelpURI)),
		prop("CommandType", EnumValue(typeCommandTypes, x.CommandType.String(), int32(x.CommandType))),
		prop("ResolvedCommandName", resolved),
		prop("OutputType", listObject(typeOutputTypes, outputs)),
		prop("Parameters", params),
	)
	o.TypeNames = []string{"Selected." + x.CommandType.infoType(), typePSCustomObject, typeObject}
	return keepUnknown(o, x.Raw)
}

func (p *ParameterMetadata) toCLIXML() *clixml.Object {
	aliases := make([]clixml.Value, len(p.Aliases))
	for i, a := range p.Aliases {
		aliases[i] = clixml.String(a)
	}
	return &clixml.Object{
		TypeNames: []string{typeParameterMetadata, typeObject}, ToString: typeParameterMetadata, HasToString: true,
		Adapted: []clixml.Property{
			prop("Name", clixml.String(p.Name)),
			prop("ParameterType", clixml.String(p.ParameterType)),
			prop("Aliases", listObject(typeAliasCollection, aliases)),
			prop("IsDynamic", clixml.Bool(p.IsDynamic)),
			prop("SwitchParameter", clixml.Bool(p.SwitchParameter)),
		},
	}
}

// DecodeCommandMetadata decodes a CommandMetadata. Name and CommandType
// are required; the other properties may be absent or <Nil>.
func DecodeCommandMetadata(v clixml.Value) (*CommandMetadata, error) {
	r, err := newReader("CommandMetadata", v)
	if err != nil {
		return nil, err
	}
	x := &CommandMetadata{
		Name:                r.str("Name", true),
		Namespace:           r.str("Namespace", false),
		HelpURI:             r.str("HelpUri", false),
		CommandType:         CommandType(r.int32("CommandType", true)),
		ResolvedCommandName: r.str("ResolvedCommandName", false),
		OutputType:          r.strings("OutputType"),
		Raw:                 r.o,
	}
	if ps := r.object("Parameters", false); ps != nil {
		if ps.Kind != clixml.Dictionary {
			r.fail("Parameters", "expected a dictionary")
		}
		for _, e := range ps.Entries {
			key, ok := stringOf(e.Key)
			if !ok {
				r.fail("Parameters", "expected string keys, got %s", describe(e.Key))
				break
			}
			pm, err := decodeParameterMetadata(e.Value)
			if err != nil {
				if r.err == nil {
					r.err = err
				}
				break
			}
			if pm.Name == "" {
				pm.Name = key
			}
			x.Parameters = append(x.Parameters, *pm)
		}
	}
	return x, r.err
}

func decodeParameterMetadata(v clixml.Value) (*ParameterMetadata, error) {
	r, err := newReader("ParameterMetadata", v)
	if err != nil {
		return nil, err
	}
	return &ParameterMetadata{
		Name:            r.str("Name", false),
		ParameterType:   r.str("ParameterType", false),
		Aliases:         r.strings("Aliases"),
		IsDynamic:       r.bool("IsDynamic", false),
		SwitchParameter: r.bool("SwitchParameter", false),
	}, r.err
}

// CommandMetadataResult is the decoded output of a GET_COMMAND_METADATA
// pipeline.
type CommandMetadataResult struct {
	// Count is what the CommandMetadataCount announced.
	Count int32
	// Commands holds the CommandMetadata objects in the order received.
	Commands []*CommandMetadata
}

// DecodeCommandMetadataResult decodes the output objects of a
// GET_COMMAND_METADATA pipeline, in order: a CommandMetadataCount, then the
// CommandMetadata objects. It fails (a DataError) when the count is missing
// or does not match the objects that follow, returning what it decoded.
func DecodeCommandMetadataResult(outputs []clixml.Value) (*CommandMetadataResult, error) {
	if len(outputs) == 0 {
		return nil, dataErr("CommandMetadataCount", "", "no output: the count object is missing")
	}
	c, err := DecodeCommandMetadataCount(outputs[0])
	if err != nil {
		return nil, err
	}
	res := &CommandMetadataResult{Count: c.Count}
	for _, v := range outputs[1:] {
		m, err := DecodeCommandMetadata(v)
		if err != nil {
			return res, err
		}
		res.Commands = append(res.Commands, m)
	}
	if int(c.Count) != len(res.Commands) {
		return res, dataErr("CommandMetadataCount", "Count", "announced %d commands, %d followed", c.Count, len(res.Commands))
	}
	return res, nil
}
