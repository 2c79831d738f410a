package wsmantest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// The cmdlets of the built-in subset and their parameter binding.

type paramKind int

const (
	pkValue  paramKind = iota // takes a value
	pkSwitch                  // a switch: present or -Name:$bool
)

type paramDef struct {
	name      string
	kind      paramKind
	position  int  // positional index, -1 for named only
	remaining bool // takes every remaining positional argument
	pipeline  bool // bound from pipeline input when not given
	typeName  string
}

type cmdletDef struct {
	name     string // canonical, e.g. "Write-Output"
	typeName string // .NET command class, for FullyQualifiedErrorIds
	params   []paramDef
	start    func(x *cmdRun) error
	process  func(x *cmdRun, in clixml.Value, hasInput bool) error
	end      func(x *cmdRun) error
}

// Common parameters every cmdlet accepts. Verbose, Debug, ErrorAction,
// WarningAction and InformationAction are honoured; the others are accepted
// and ignored.
var commonParams = []paramDef{
	{name: "Verbose", kind: pkSwitch, position: -1},
	{name: "Debug", kind: pkSwitch, position: -1},
	{name: "ErrorAction", position: -1, typeName: "System.Management.Automation.ActionPreference"},
	{name: "WarningAction", position: -1, typeName: "System.Management.Automation.ActionPreference"},
	{name: "InformationAction", position: -1, typeName: "System.Management.Automation.ActionPreference"},
	{name: "ErrorVariable", position: -1, typeName: "System.String"},
	{name: "WarningVariable", position: -1, typeName: "System.String"},
	{name: "InformationVariable", position: -1, typeName: "System.String"},
	{name: "OutVariable", position: -1, typeName: "System.String"},
	{name: "OutBuffer", position: -1, typeName: "System.Int32"},
	{name: "PipelineVariable", position: -1, typeName: "System.String"},
}

// cmdRun is one command of a running pipeline.
type cmdRun struct {
	ip    *interp
	def   *cmdletDef
	bound map[string]clixml.Value // by canonical parameter name
	emit  emitFn
	// blocks of ForEach-Object
	begin, end []*bScript
	process    []*bScript
	// text collected by Out-String
	lines []string
}

var builtinCmdlets = map[string]*cmdletDef{}

// builtinAliases maps aliases (lower case) to cmdlet names.
var builtinAliases = map[string]string{
	"iex":     "Invoke-Expression",
	"echo":    "Write-Output",
	"write":   "Write-Output",
	"sleep":   "Start-Sleep",
	"%":       "ForEach-Object",
	"foreach": "ForEach-Object",
}

func lookupCmdlet(name string) *cmdletDef {
	n := strings.ToLower(name)
	if a, ok := builtinAliases[n]; ok {
		n = strings.ToLower(a)
	}
	return builtinCmdlets[n]
}

func init() {
	for _, d := range []*cmdletDef{
		{
			name: "Write-Output", typeName: "Microsoft.PowerShell.Commands.WriteOutputCommand",
			params: []paramDef{
				{name: "InputObject", position: 0, remaining: true, pipeline: true, typeName: "System.Management.Automation.PSObject[]"},
				{name: "NoEnumerate", kind: pkSwitch, position: -1},
			},
			process: writeOutput,
		},
		{
			name: "Write-Error", typeName: "Microsoft.PowerShell.Commands.WriteErrorCommand",
			params: []paramDef{
				{name: "Message", position: 0, pipeline: true, typeName: "System.String"},
				{name: "Category", position: -1, typeName: "System.Management.Automation.ErrorCategory"},
				{name: "ErrorId", position: -1, typeName: "System.String"},
				{name: "TargetObject", position: -1, typeName: "System.Object"},
				{name: "RecommendedAction", position: -1, typeName: "System.String"},
				{name: "CategoryActivity", position: -1, typeName: "System.String"},
				{name: "CategoryReason", position: -1, typeName: "System.String"},
				{name: "CategoryTargetName", position: -1, typeName: "System.String"},
				{name: "CategoryTargetType", position: -1, typeName: "System.String"},
			},
			process: writeErrorCmd,
		},
		{
			name: "Write-Warning", typeName: "Microsoft.PowerShell.Commands.WriteWarningCommand",
			params:  []paramDef{{name: "Message", position: 0, pipeline: true, typeName: "System.String"}},
			process: writeWarningCmd,
		},
		{
			name: "Write-Verbose", typeName: "Microsoft.PowerShell.Commands.WriteVerboseCommand",
			params:  []paramDef{{name: "Message", position: 0, pipeline: true, typeName: "System.String"}},
			process: writeVerboseCmd,
		},
		{
			name: "Write-Debug", typeName: "Microsoft.PowerShell.Commands.WriteDebugCommand",
			params:  []paramDef{{name: "Message", position: 0, pipeline: true, typeName: "System.String"}},
			process: writeDebugCmd,
		},
		{
			name: "Write-Information", typeName: "Microsoft.PowerShell.Commands.WriteInformationCommand",
			params: []paramDef{
				{name: "MessageData", position: 0, pipeline: true, typeName: "System.Object"},
				{name: "Tags", position: 1, typeName: "System.String[]"},
			},
			process: writeInformationCmd,
		},
		{
			name: "Write-Progress", typeName: "Microsoft.PowerShell.Commands.WriteProgressCommand",
			params: []paramDef{
				{name: "Activity", position: 0, typeName: "System.String"},
				{name: "Status", position: 1, typeName: "System.String"},
				{name: "Id", position: 2, typeName: "System.Int32"},
				{name: "PercentComplete", position: -1, typeName: "System.Int32"},
				{name: "SecondsRemaining", position: -1, typeName: "System.Int32"},
				{name: "CurrentOperation", position: -1, typeName: "System.String"},
				{name: "ParentId", position: -1, typeName: "System.Int32"},
				{name: "Completed", kind: pkSwitch, position: -1},
				{name: "SourceId", position: -1, typeName: "System.Int32"},
			},
			process: writeProgressCmd,
		},
		{
			name: "Start-Sleep", typeName: "Microsoft.PowerShell.Commands.StartSleepCommand",
			params: []paramDef{
				{name: "Seconds", position: 0, typeName: "System.Double"},
				{name: "Milliseconds", position: -1, typeName: "System.Int32"},
			},
			process: startSleep,
		},
		{
			name: "Get-Date", typeName: "Microsoft.PowerShell.Commands.GetDateCommand",
			params: []paramDef{
				{name: "Format", position: -1, typeName: "System.String"},
				{name: "UFormat", position: -1, typeName: "System.String"},
				{name: "AsUTC", kind: pkSwitch, position: -1},
			},
			process: getDate,
		},
		{
			name: "ForEach-Object", typeName: "Microsoft.PowerShell.Commands.ForEachObjectCommand",
			params: []paramDef{
				{name: "Process", position: 0, remaining: true, typeName: "System.Management.Automation.ScriptBlock[]"},
				{name: "Begin", position: -1, typeName: "System.Management.Automation.ScriptBlock"},
				{name: "End", position: -1, typeName: "System.Management.Automation.ScriptBlock"},
				{name: "InputObject", position: -1, pipeline: true, typeName: "System.Management.Automation.PSObject"},
			},
			start:   foreachStart,
			process: foreachProcess,
			end:     foreachEnd,
		},
		{
			name: "Invoke-Expression", typeName: "Microsoft.PowerShell.Commands.InvokeExpressionCommand",
			params:  []paramDef{{name: "Command", position: 0, pipeline: true, typeName: "System.String"}},
			process: invokeExpression,
		},
		{
			name: "Out-String", typeName: "Microsoft.PowerShell.Commands.OutStringCommand",
			params: []paramDef{
				{name: "Stream", kind: pkSwitch, position: -1},
				{name: "Width", position: -1, typeName: "System.Int32"},
				{name: "NoNewline", kind: pkSwitch, position: -1},
				{name: "InputObject", position: -1, pipeline: true, typeName: "System.Management.Automation.PSObject"},
			},
			process: outStringProcess,
			end:     outStringEnd,
		},
		{
			name: "Read-Host", typeName: "Microsoft.PowerShell.Commands.ReadHostCommand",
			params:  []paramDef{{name: "Prompt", position: 0, remaining: true, typeName: "System.Object"}},
			start:   readHostStart,
			process: func(*cmdRun, clixml.Value, bool) error { return nil },
		},
		{
			name: "Out-Null", typeName: "Microsoft.PowerShell.Commands.OutNullCommand",
			params:  []paramDef{{name: "InputObject", position: -1, pipeline: true, typeName: "System.Management.Automation.PSObject"}},
			process: func(*cmdRun, clixml.Value, bool) error { return nil },
		},
	} {
		builtinCmdlets[strings.ToLower(d.name)] = d
	}
}

// cmdProc adapts a cmdRun to the processor interface.
type cmdProc struct {
	x        *cmdRun
	hasInput bool
}

func (p cmdProc) process(in clixml.Value) error {
	if err := p.x.ip.step(); err != nil {
		return err
	}
	return p.x.def.process(p.x, in, p.hasInput)
}

func (p cmdProc) end() error {
	if p.x.def.end == nil {
		return nil
	}
	return p.x.def.end(p.x)
}

// startCommand resolves and binds a command and runs its begin step.
func (ip *interp) startCommand(c *bCommand, emit emitFn, hasInput bool) (processor, error) {
	def := lookupCmdlet(c.name)
	if def == nil {
		return nil, &statementError{rec: CommandNotFoundError(c.name)}
	}
	x := &cmdRun{ip: ip, def: def, bound: map[string]clixml.Value{}, emit: emit}
	if err := x.bind(c.args); err != nil {
		return nil, err
	}
	if def.start != nil {
		if err := def.start(x); err != nil {
			return nil, err
		}
	}
	return cmdProc{x: x, hasInput: hasInput}, nil
}

func (x *cmdRun) bindingError(id, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &statementError{rec: &ErrorRecord{
		Message:               msg,
		ExceptionType:         "System.Management.Automation.ParameterBindingException",
		FullyQualifiedErrorID: id + "," + x.def.typeName,
		Category:              CategoryInvalidArgument,
		CategoryReason:        "ParameterBindingException",
	}}
}

// findParam resolves a parameter name: exact or unique prefix,
// case-insensitive, among the cmdlet's parameters and then the common ones.
func (x *cmdRun) findParam(name string) (*paramDef, error) {
	ln := strings.ToLower(name)
	for _, set := range [][]paramDef{x.def.params, commonParams} {
		var match []*paramDef
		for i := range set {
			pn := strings.ToLower(set[i].name)
			if pn == ln {
				return &set[i], nil
			}
			if strings.HasPrefix(pn, ln) {
				match = append(match, &set[i])
			}
		}
		if len(match) == 1 {
			return match[0], nil
		}
		if len(match) > 1 {
			names := make([]string, len(match))
			for i, m := range match {
				names[i] = m.name
			}
			return nil, x.bindingError("AmbiguousParameter", "Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: -%s.", name, strings.Join(names, " -"))
		}
	}
	return nil, x.bindingError("NamedParameterNotFound", "A parameter cannot be found that matches parameter name '%s'.", name)
}

// bind binds the arguments of a command to its parameters.
func (x *cmdRun) bind(args []bArg) error {
	ip := x.ip
	var positional []clixml.Value
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.param == "" {
			v, err := ip.eval(a.value)
			if err != nil {
				return err
			}
			positional = append(positional, v)
			continue
		}
		p, err := x.findParam(a.param)
		if err != nil {
			return err
		}
		if _, dup := x.bound[p.name]; dup {
			return x.bindingError("ParameterAlreadyBound", "Cannot bind parameter because parameter '%s' is specified more than once.", p.name)
		}
		switch {
		case p.kind == pkSwitch && (a.value == nil || a.value == bAPINull{}):
			// -Switch, or a switch added through the API with a null value
			x.bound[p.name] = clixml.Bool(true)
		case a.value != nil:
			v, err := ip.eval(a.value)
			if err != nil {
				return err
			}
			x.bound[p.name] = v
		default:
			if i+1 >= len(args) || args[i+1].param != "" {
				return x.bindingError("MissingArgument", "Missing an argument for parameter '%s'. Specify a parameter of type '%s' and try again.", p.name, p.typeName)
			}
			i++
			v, err := ip.eval(args[i].value)
			if err != nil {
				return err
			}
			x.bound[p.name] = v
		}
	}
	pos := 0
	for k := 0; k < len(positional); {
		var p *paramDef
		for i := range x.def.params {
			d := &x.def.params[i]
			if d.position == pos {
				p = d
				break
			}
		}
		pos++
		if p == nil {
			return x.bindingError("PositionalParameterNotFound", "A positional parameter cannot be found that accepts argument '%s'.", toText(positional[k]))
		}
		if _, dup := x.bound[p.name]; dup {
			continue // bound by name: the argument goes to the next position
		}
		if p.remaining {
			if len(positional)-k == 1 {
				x.bound[p.name] = positional[k]
			} else {
				// Several remaining arguments: one flat list of their items.
				var all []clixml.Value
				for _, v := range positional[k:] {
					all = append(all, items(v)...)
				}
				x.bound[p.name] = listValue(all)
			}
			k = len(positional)
			continue
		}
		x.bound[p.name] = positional[k]
		k++
	}
	return nil
}

// pref returns the preference for a stream: the command's common parameter
// if given, else the preference variable.
func (x *cmdRun) pref(common, variable string) actionPreference {
	if v, ok := x.bound[common]; ok {
		if p, ok := parsePreference(v); ok {
			return p
		}
	}
	return x.ip.pref(variable)
}

// switchPref returns Continue when a -Verbose / -Debug switch is on, the
// preference variable otherwise.
func (x *cmdRun) switchPref(sw, variable string) actionPreference {
	if v, ok := x.bound[sw]; ok {
		if b, ok := v.(clixml.Bool); ok {
			if b {
				return prefContinue
			}
			return prefSilentlyContinue
		}
	}
	return x.ip.pref(variable)
}

// message returns the Message parameter, or the pipeline input.
func (x *cmdRun) message(name string, in clixml.Value, hasInput bool) (string, bool) {
	if v, ok := x.bound[name]; ok {
		return toText(v), true
	}
	if hasInput {
		return toText(in), true
	}
	return "", false
}

func (x *cmdRun) missingMandatory(name string) error {
	return x.bindingError("MissingMandatoryParameter", "Cannot process command because of one or more missing mandatory parameters: %s.", name)
}

func writeOutput(x *cmdRun, in clixml.Value, hasInput bool) error {
	v, ok := x.bound["InputObject"]
	if !ok {
		if !hasInput {
			return nil
		}
		v = in
	}
	if b, _ := x.bound["NoEnumerate"].(clixml.Bool); b {
		return x.emit(v)
	}
	for _, it := range items(v) {
		if err := x.emit(it); err != nil {
			return err
		}
	}
	return nil
}

func writeErrorCmd(x *cmdRun, in clixml.Value, hasInput bool) error {
	msg, ok := x.message("Message", in, hasInput)
	if !ok {
		return x.missingMandatory("Message")
	}
	rec := &ErrorRecord{
		Message:          msg,
		CategoryActivity: "Write-Error",
		CategoryReason:   "WriteErrorException",
	}
	if v, ok := x.bound["Category"]; ok {
		c, ok := parseCategory(v)
		if !ok {
			return x.bindingError("CannotConvertArgumentNoMessage", "Cannot bind parameter 'Category'. Cannot convert value \"%s\" to type \"System.Management.Automation.ErrorCategory\".", toText(v))
		}
		rec.Category = c
	}
	if v, ok := x.bound["ErrorId"]; ok {
		rec.FullyQualifiedErrorID = toText(v)
	}
	if v, ok := x.bound["TargetObject"]; ok {
		rec.TargetObject = v
	}
	for param, dst := range map[string]*string{"CategoryActivity": &rec.CategoryActivity, "CategoryReason": &rec.CategoryReason,
		"CategoryTargetName": &rec.TargetName, "CategoryTargetType": &rec.TargetType} {
		if v, ok := x.bound[param]; ok {
			*dst = toText(v)
		}
	}
	return x.ip.writeError(rec, x.pref("ErrorAction", "erroractionpreference"))
}

func parseCategory(v clixml.Value) (ErrorCategory, bool) {
	if n, ok := toInt(v); ok {
		if n >= 0 && n <= int64(psrp.ErrorCategoryNotEnabled) {
			return ErrorCategory(n), true
		}
		return 0, false
	}
	s := strings.ToLower(toText(v))
	for c := psrp.ErrorCategoryNotSpecified; c <= psrp.ErrorCategoryNotEnabled; c++ {
		if strings.ToLower(c.String()) == s {
			return ErrorCategory(c), true
		}
	}
	return 0, false
}

// informational writes the mandatory Message (bound, or the pipeline
// input) of Write-Warning, Write-Verbose or Write-Debug under a preference:
// Continue and Inquire write it (the fake server never prompts), Stop
// writes it and then stops the script as PowerShell does.
func (x *cmdRun) informational(in clixml.Value, hasInput bool, p actionPreference, variable string, write func(string) error) error {
	msg, ok := x.message("Message", in, hasInput)
	if !ok {
		return x.missingMandatory("Message")
	}
	switch p {
	case prefSilentlyContinue, prefIgnore:
		return nil
	case prefStop:
		if err := write(msg); err != nil {
			return err
		}
		return &terminatingError{rec: &ErrorRecord{
			Message:               fmt.Sprintf("The running command stopped because the preference variable %q or common parameter is set to Stop: %s", variable, msg),
			ExceptionType:         "System.Management.Automation.ActionPreferenceStopException",
			FullyQualifiedErrorID: "ActionPreferenceStop",
			Category:              ErrorCategory(psrp.ErrorCategoryOperationStopped),
			CategoryReason:        "ActionPreferenceStopException",
		}}
	}
	return write(msg)
}

func writeWarningCmd(x *cmdRun, in clixml.Value, hasInput bool) error {
	return x.informational(in, hasInput, x.pref("WarningAction", "warningpreference"), "WarningPreference", x.ip.host.WriteWarning)
}

func writeVerboseCmd(x *cmdRun, in clixml.Value, hasInput bool) error {
	return x.informational(in, hasInput, x.switchPref("Verbose", "verbosepreference"), "VerbosePreference", x.ip.host.WriteVerbose)
}

func writeDebugCmd(x *cmdRun, in clixml.Value, hasInput bool) error {
	return x.informational(in, hasInput, x.switchPref("Debug", "debugpreference"), "DebugPreference", x.ip.host.WriteDebug)
}

func writeInformationCmd(x *cmdRun, in clixml.Value, hasInput bool) error {
	data, ok := x.bound["MessageData"]
	if !ok {
		if !hasInput {
			return x.missingMandatory("MessageData")
		}
		data = in
	}
	// Information records are always written to the stream (the preference
	// only decides whether the host displays them), except under Ignore.
	p := x.pref("InformationAction", "informationpreference")
	if p == prefIgnore {
		return nil
	}
	rec := &InformationRecord{MessageData: data, Source: "Write-Information", Tags: []string{}}
	if v, ok := x.bound["Tags"]; ok {
		for _, t := range items(v) {
			rec.Tags = append(rec.Tags, toText(t))
		}
	}
	if err := x.ip.host.WriteInformation(rec); err != nil {
		return err
	}
	if p == prefStop {
		return &terminatingError{rec: &ErrorRecord{
			Message:               "The running command stopped because the preference variable \"InformationPreference\" or common parameter is set to Stop: " + toText(data),
			ExceptionType:         "System.Management.Automation.ActionPreferenceStopException",
			FullyQualifiedErrorID: "ActionPreferenceStop",
			Category:              ErrorCategory(psrp.ErrorCategoryOperationStopped),
			CategoryReason:        "ActionPreferenceStopException",
		}}
	}
	return nil
}

func (x *cmdRun) intParam(name string, def int32) (int32, error) {
	v, ok := x.bound[name]
	if !ok {
		return def, nil
	}
	n, ok := toInt(v)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, x.bindingError("CannotConvertArgumentNoMessage", "Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"System.Int32\".", name, toText(v))
	}
	return int32(n), nil
}

func writeProgressCmd(x *cmdRun, _ clixml.Value, _ bool) error {
	act, ok := x.bound["Activity"]
	if !ok {
		return x.missingMandatory("Activity")
	}
	rec := &ProgressRecord{Activity: toText(act), StatusDescription: "Processing"}
	if v, ok := x.bound["Status"]; ok {
		rec.StatusDescription = toText(v)
	}
	if v, ok := x.bound["CurrentOperation"]; ok {
		rec.CurrentOperation = toText(v)
	}
	var err error
	if rec.ActivityID, err = x.intParam("Id", 0); err != nil {
		return err
	}
	if rec.ParentActivityID, err = x.intParam("ParentId", -1); err != nil {
		return err
	}
	if rec.PercentComplete, err = x.intParam("PercentComplete", -1); err != nil {
		return err
	}
	if rec.SecondsRemaining, err = x.intParam("SecondsRemaining", -1); err != nil {
		return err
	}
	if _, err = x.intParam("SourceId", 0); err != nil {
		return err
	}
	if b, _ := x.bound["Completed"].(clixml.Bool); b {
		rec.Completed = true
	}
	if p, _ := parsePreference(x.ip.vars["progresspreference"]); p == prefSilentlyContinue || p == prefIgnore {
		return nil
	}
	return x.ip.host.WriteProgress(rec)
}

func (x *cmdRun) validationError(param, format string, args ...any) error {
	return &statementError{rec: &ErrorRecord{
		Message:               fmt.Sprintf("Cannot validate argument on parameter '%s'. ", param) + fmt.Sprintf(format, args...),
		ExceptionType:         "System.Management.Automation.ParameterBindingValidationException",
		FullyQualifiedErrorID: "ParameterArgumentValidationError," + x.def.typeName,
		Category:              CategoryInvalidArgument,
		CategoryReason:        "ParameterBindingValidationException",
	}}
}

func startSleep(x *cmdRun, _ clixml.Value, _ bool) error {
	sv, hasS := x.bound["Seconds"]
	mv, hasM := x.bound["Milliseconds"]
	var d time.Duration
	switch {
	case hasS && hasM:
		return x.bindingError("AmbiguousParameterSet", "Parameter set cannot be resolved using the specified named parameters.")
	case hasS:
		f, ok := toFloat(sv)
		if !ok {
			return x.bindingError("CannotConvertArgumentNoMessage", "Cannot bind parameter 'Seconds'. Cannot convert value \"%s\" to type \"System.Double\".", toText(sv))
		}
		if f < 0 || f > 2147483 || math.IsNaN(f) {
			return x.validationError("Seconds", "The %s argument is less than the minimum allowed range of 0 or greater than the maximum allowed range of 2147483.", toText(sv))
		}
		d = time.Duration(f * float64(time.Second))
	case hasM:
		n, ok := toInt(mv)
		if !ok || n > math.MaxInt32 {
			return x.bindingError("CannotConvertArgumentNoMessage", "Cannot bind parameter 'Milliseconds'. Cannot convert value \"%s\" to type \"System.Int32\".", toText(mv))
		}
		if n < 0 {
			return x.validationError("Milliseconds", "The %d argument is less than the minimum allowed range of 0.", n)
		}
		d = time.Duration(n) * time.Millisecond
	default:
		return x.missingMandatory("Seconds")
	}
	return x.ip.host.Sleep(d)
}

// dateObject is Get-Date's output as PowerShell serializes it: the
// DateTime (<DT>) inside an object carrying the DisplayHint note property
// (DateTime), with no type names of its own.
func dateObject(t time.Time) *clixml.Object {
	hint := &clixml.Object{
		TypeNames:   []string{"Microsoft.PowerShell.Commands.DisplayHintType", "System.Enum", "System.ValueType", "System.Object"},
		ToString:    "DateTime",
		HasToString: true,
		Inner:       clixml.Int32(2),
	}
	return &clixml.Object{
		Inner:    clixml.DateTime{Time: t},
		Extended: []clixml.Property{{Name: "DisplayHint", Value: hint}},
	}
}

func getDate(x *cmdRun, _ clixml.Value, _ bool) error {
	now := x.ip.host.Now()
	if b, _ := x.bound["AsUTC"].(clixml.Bool); b {
		now = now.UTC()
	}
	if v, ok := x.bound["Format"]; ok {
		var s string
		switch f := toText(v); f {
		case "o", "O":
			s = now.Format("2006-01-02T15:04:05.0000000Z07:00")
		case "s":
			s = now.Format("2006-01-02T15:04:05")
		case "u":
			s = now.UTC().Format("2006-01-02 15:04:05Z")
		case "yyyy-MM-dd":
			s = now.Format("2006-01-02")
		case "HH:mm:ss":
			s = now.Format("15:04:05")
		default:
			return x.unsupported("Get-Date -Format " + f)
		}
		return x.emit(clixml.String(s))
	}
	if v, ok := x.bound["UFormat"]; ok {
		if f := toText(v); f == "%s" {
			return x.emit(clixml.String(fmt.Sprint(now.Unix())))
		}
		return x.unsupported("Get-Date -UFormat " + toText(v))
	}
	return x.emit(dateObject(now))
}

// unsupported reports a cmdlet feature outside the subset as a statement
// error (the fake server is not PowerShell).
func (x *cmdRun) unsupported(what string) error {
	return &statementError{rec: &ErrorRecord{
		Message:               "wsmantest: " + what + " is not supported by the fake server's built-in commands; register a handler for this script.",
		ExceptionType:         "System.NotSupportedException",
		FullyQualifiedErrorID: "NotSupportedByFakeServer," + x.def.typeName,
		Category:              ErrorCategory(psrp.ErrorCategoryNotImplemented),
		CategoryReason:        "NotSupportedException",
	}}
}

// blocks converts a parameter value to script blocks.
func (x *cmdRun) blocks(name string) ([]*bScript, error) {
	v, ok := x.bound[name]
	if !ok {
		return nil, nil
	}
	var out []*bScript
	for _, it := range items(v) {
		sb, ok := it.(clixml.ScriptBlock)
		if !ok {
			if name == "Process" {
				return nil, x.unsupported("ForEach-Object with a member name")
			}
			return nil, x.bindingError("CannotConvertArgumentNoMessage", "Cannot bind parameter '%s'. Cannot convert the \"%s\" value of type \"%s\" to type \"System.Management.Automation.ScriptBlock\".", name, toText(it), it.Tag())
		}
		s, err := parseScript(string(sb), x.ip.lim)
		if err != nil {
			return nil, scriptError(err)
		}
		out = append(out, s)
	}
	return out, nil
}

func foreachStart(x *cmdRun) error {
	proc, err := x.blocks("Process")
	if err != nil {
		return err
	}
	if proc == nil {
		return x.missingMandatory("Process")
	}
	if x.begin, err = x.blocks("Begin"); err != nil {
		return err
	}
	if x.end, err = x.blocks("End"); err != nil {
		return err
	}
	// Several positional blocks: the first is begin, the last end (when
	// three or more), the others process (about_ForEach-Object).
	if _, hasBegin := x.bound["Begin"]; !hasBegin && len(proc) >= 2 {
		x.begin = proc[:1]
		proc = proc[1:]
		if len(proc) >= 2 && x.end == nil {
			x.end = proc[len(proc)-1:]
			proc = proc[:len(proc)-1]
		}
	}
	x.process = proc
	return x.runBlocks(x.begin, clixml.Nil{})
}

func (x *cmdRun) runBlocks(bs []*bScript, dollar clixml.Value) error {
	old, had := x.ip.vars["_"]
	x.ip.vars["_"] = dollar
	defer func() {
		if had {
			x.ip.vars["_"] = old
		} else {
			delete(x.ip.vars, "_")
		}
	}()
	for _, b := range bs {
		if err := x.ip.runScript(b, x.emit); err != nil {
			return err
		}
	}
	return nil
}

func foreachProcess(x *cmdRun, in clixml.Value, hasInput bool) error {
	if v, ok := x.bound["InputObject"]; ok && !hasInput {
		in = v
	} else if !hasInput {
		in = clixml.Nil{}
	}
	return x.runBlocks(x.process, in)
}

func foreachEnd(x *cmdRun) error { return x.runBlocks(x.end, clixml.Nil{}) }

// invokeExpression runs a script given as a string, in the current scope.
func invokeExpression(x *cmdRun, in clixml.Value, hasInput bool) error {
	text, ok := x.message("Command", in, hasInput)
	if !ok {
		return x.missingMandatory("Command")
	}
	s, err := parseScript(text, x.ip.lim)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return err
		}
		return scriptError(err)
	}
	err = x.ip.runScript(s, x.emit)
	var se *statementError
	if x.ip.commands && errors.As(err, &se) && !strings.Contains(se.rec.FullyQualifiedErrorID, ",") {
		// The error leaves the cmdlet, which names itself in the record
		// (test_client_execute_ps_failure.yml:
		// "CommandNotFoundException,Microsoft.PowerShell.Commands.InvokeExpressionCommand",
		// activity Invoke-Expression).
		rec := *se.rec
		rec.FullyQualifiedErrorID += "," + x.def.typeName
		rec.CategoryActivity = x.def.name
		return &statementError{rec: &rec}
	}
	return err
}

// outStringProcess collects (or, with -Stream, writes line by line) the
// text of its input. Objects are converted with their ToString, not with
// PowerShell's table and list formatting.
func outStringProcess(x *cmdRun, in clixml.Value, hasInput bool) error {
	if v, ok := x.bound["InputObject"]; ok && !hasInput {
		in, hasInput = v, true
	}
	if !hasInput {
		return nil
	}
	text := strings.ReplaceAll(toText(in), "\r\n", "\n")
	if err := x.ip.chargeText(len(text)); err != nil {
		return err
	}
	if b, _ := x.bound["Stream"].(clixml.Bool); b {
		for _, line := range strings.Split(text, "\n") {
			if err := x.emit(clixml.String(line)); err != nil {
				return err
			}
		}
		return nil
	}
	x.lines = append(x.lines, text)
	return nil
}

func outStringEnd(x *cmdRun) error {
	if b, _ := x.bound["Stream"].(clixml.Bool); b || x.lines == nil {
		return nil
	}
	s := strings.ReplaceAll(strings.Join(x.lines, "\n"), "\n", "\r\n")
	if b, _ := x.bound["NoNewline"].(clixml.Bool); !b {
		s += "\r\n"
	}
	return x.emit(clixml.String(s))
}
