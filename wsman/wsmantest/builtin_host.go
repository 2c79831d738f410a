package wsmantest

import (
	"errors"
	"strings"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// Read-Host of the built-in subset: a host call the client's host answers.

// readHostStart runs Read-Host, which (like PowerShell's ReadHostCommand)
// does its work once, before any input: without -Prompt it calls the host's
// ReadLine (RemoteHostMethodId 11, MS-PSRP 2.2.3.17) and writes the line
// the host returns; with -Prompt it calls Prompt (23) with an empty caption
// and message and one field description named by the prompt text (the
// prompt's items as text, empty ones left out, joined with spaces), and
// writes the values of the dictionary the host returns. The shapes are
// those of test_psrp_pshost_ui_mocked_methods.yml. -AsSecureString is not
// in the subset.
func readHostStart(x *cmdRun) error {
	prompt, ok := x.bound["Prompt"]
	if !ok {
		v, err := x.hostCall(HostCall{MethodID: int32(psrp.HostReadLine), MethodName: psrp.HostReadLine.String()})
		if err != nil {
			return err
		}
		if v == nil {
			v = clixml.Nil{}
		}
		return x.emit(v)
	}
	var parts []string
	for _, it := range items(prompt) {
		if s := toText(it); s != "" {
			parts = append(parts, s)
		}
	}
	v, err := x.hostCall(HostCall{MethodID: int32(psrp.HostPrompt), MethodName: psrp.HostPrompt.String(),
		Parameters: []clixml.Value{clixml.String(""), clixml.String(""), arrayList(fieldDescription(strings.Join(parts, " ")))}})
	if err != nil {
		return err
	}
	o, ok := v.(*clixml.Object)
	if !ok || o.Kind != clixml.Dictionary {
		return nil // a host may return no dictionary (a cancelled dialog)
	}
	for _, e := range o.Entries {
		if err := x.emit(e.Value); err != nil {
			return err
		}
	}
	return nil
}

// hostCall makes a host call; a failure the client reports ends the
// statement with its record.
func (x *cmdRun) hostCall(call HostCall) (clixml.Value, error) {
	v, err := x.ip.host.HostCall(call)
	var rec *ErrorRecord
	if errors.As(err, &rec) {
		return nil, &statementError{rec: rec}
	}
	return v, err
}

// arrayList is a System.Collections.ArrayList of items.
func arrayList(items ...clixml.Value) *clixml.Object {
	return &clixml.Object{TypeNames: []string{"System.Collections.ArrayList", "System.Object"}, Kind: clixml.List, Items: items}
}

// fieldDescription is a FieldDescription of a string field, serialized as
// in the recorded Prompt host call.
func fieldDescription(name string) *clixml.Object {
	str := func(n, v string) clixml.Property { return clixml.Property{Name: n, Value: clixml.String(v)} }
	return &clixml.Object{Extended: []clixml.Property{
		str("name", name),
		str("label", ""),
		str("parameterTypeName", "String"),
		str("parameterTypeFullName", "System.String"),
		str("parameterAssemblyFullName", "System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"),
		str("helpMessage", ""),
		{Name: "isMandatory", Value: clixml.Bool(true)},
		{Name: "metadata", Value: arrayList()},
		{Name: "modifiedByRemotingProtocol", Value: clixml.Bool(false)},
		{Name: "isFromRemoteHost", Value: clixml.Bool(false)},
	}}
}
