package wsmantest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// metadataShape describes a value's shape: type names, ToString presence,
// container kind, the first dictionary entry, and property names and
// shapes in order (list items are left out: their number differs).
func metadataShape(v clixml.Value) string {
	o, ok := v.(*clixml.Object)
	if !ok || o == nil {
		return v.Tag()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Obj[%s] ts=%v kind=%d", strings.Join(o.TypeNames, "|"), o.HasToString, o.Kind)
	if o.Inner != nil {
		fmt.Fprintf(&b, " inner=%s", metadataShape(o.Inner))
	}
	if len(o.Entries) > 0 {
		fmt.Fprintf(&b, " {%s:%s}", metadataShape(o.Entries[0].Key), metadataShape(o.Entries[0].Value))
	}
	for _, p := range o.Adapted {
		fmt.Fprintf(&b, " P:%s=(%s)", p.Name, metadataShape(p.Value))
	}
	for _, p := range o.Extended {
		fmt.Fprintf(&b, " M:%s=(%s)", p.Name, metadataShape(p.Value))
	}
	return b.String()
}

// recordedCmdletAnswer returns Windows' answer to the first recorded
// GET_COMMAND_METADATA (new-pssession*: a count and three cmdlets).
func recordedCmdletAnswer(t *testing.T) []clixml.Value {
	msgs, err := psrptrace.Recording(recordings.LoadNamed(t, "test_psrp_get_command_metadata"))
	require.NoError(t, err)
	var pid uuid.UUID
	var out []clixml.Value
	for _, m := range msgs {
		switch {
		case m.Message.Type == psrp.MessageGetCommandMetadata && pid == uuid.Nil:
			pid = m.Message.PipelineID
		case m.Message.Type == psrp.MessagePipelineOutput && m.Message.PipelineID == pid:
			v, err := clixml.Unmarshal(m.Message.Data)
			require.NoError(t, err)
			out = append(out, v)
		}
	}
	require.Len(t, out, 4)
	return out
}

// getCommandMetadata runs GET_COMMAND_METADATA on the fake and returns the
// raw output and its decoded form.
func getCommandMetadata(t *testing.T, c *psClient, req *psrp.GetCommandMetadata) ([]clixml.Value, *psrp.CommandMetadataResult) {
	t.Helper()
	pl, err := c.pool.NewCommandMetadataPipeline(uuid.New(), req)
	require.NoError(t, err)
	res := c.invoke(testCtx(t), pl)
	require.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Empty(t, res.errors)
	dec, err := psrp.DecodeCommandMetadataResult(res.output)
	require.NoError(t, err)
	return res.output, dec
}

func names(r *psrp.CommandMetadataResult) []string {
	var out []string
	for _, c := range r.Commands {
		out = append(out, c.Name)
	}
	return out
}

// TestGetCommandMetadata asks the fake for command metadata as a client
// does (Get-Command in a remote session) and checks the answer: the
// recorded shape, the built-in cmdlets and aliases and the commands
// registered by name, filtered by name pattern, command type and module.
func TestGetCommandMetadata(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{Users: map[string]string{}})
	srv.Handle("Get-Widget", wsmantest.HandlerFunc(func(context.Context, *wsmantest.Invocation) error { return nil }))
	srv.HandleScript("Get-Widget -All", wsmantest.HandlerFunc(func(context.Context, *wsmantest.Invocation) error { return nil }))
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()

	// The built-in Write-* cmdlets, in the shape Windows sends.
	raw, res := getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"write-*"}, CommandType: int32(psrp.CommandTypeAll)})
	assert.Equal(t, []string{"Write-Debug", "Write-Error", "Write-Information", "Write-Output", "Write-Progress",
		"Write-Verbose", "Write-Warning"}, names(res))
	recorded := recordedCmdletAnswer(t)
	assert.Equal(t, metadataShape(recorded[0]), metadataShape(raw[0]), "count object")
	for i, v := range raw[1:] {
		assert.Equal(t, metadataShape(recorded[1]), metadataShape(v), "command %d", i)
	}
	wo := res.Commands[3]
	assert.Equal(t, psrp.CommandTypeCmdlet, wo.CommandType)
	assert.Equal(t, "Microsoft.PowerShell.Utility", wo.Namespace)
	require.Len(t, wo.Parameters, 13)
	assert.Equal(t, psrp.ParameterMetadata{Name: "InputObject", ParameterType: "System.Management.Automation.PSObject[]",
		Aliases: []string{}}, wo.Parameters[0])
	assert.Equal(t, psrp.ParameterMetadata{Name: "NoEnumerate", ParameterType: "System.Management.Automation.SwitchParameter",
		Aliases: []string{}, SwitchParameter: true}, wo.Parameters[1])
	assert.Equal(t, psrp.ParameterMetadata{Name: "Verbose", ParameterType: "System.Management.Automation.SwitchParameter",
		Aliases: []string{"vb"}, SwitchParameter: true}, wo.Parameters[2])

	// Aliases resolve to their cmdlet.
	_, res = getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"*"}, CommandType: int32(psrp.CommandTypeAlias)})
	assert.Contains(t, names(res), "echo")
	for _, a := range res.Commands {
		assert.Equal(t, psrp.CommandTypeAlias, a.CommandType)
		assert.NotEmpty(t, a.ResolvedCommandName, a.Name)
		if a.Name == "echo" {
			assert.Equal(t, "Write-Output", a.ResolvedCommandName)
		}
	}

	// A command registered by name is a function; a script is no command.
	_, res = getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"get-*"}, CommandType: int32(psrp.CommandTypeFunction)})
	assert.Equal(t, []string{"Get-Widget"}, names(res))
	assert.Empty(t, res.Commands[0].Parameters)
	_, res = getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"get-*"}, CommandType: int32(psrp.CommandTypeAll)})
	assert.Equal(t, []string{"Get-Widget", "Get-Date"}, names(res), "functions before cmdlets")

	// The Namespace filter selects a module.
	_, res = getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"*"}, CommandType: int32(psrp.CommandTypeAll),
		Namespace: []string{"microsoft.powershell.core"}})
	assert.Contains(t, names(res), "ForEach-Object")
	for _, m := range res.Commands {
		assert.Equal(t, "Microsoft.PowerShell.Core", m.Namespace, m.Name)
	}

	// Nothing matching: a count of 0 and nothing else.
	raw, res = getCommandMetadata(t, c, &psrp.GetCommandMetadata{Name: []string{"nosuch-*"}, CommandType: int32(psrp.CommandTypeAll)})
	assert.Len(t, raw, 1)
	assert.Equal(t, int32(0), res.Count)
}

// TestGetCommandMetadataWithoutBuiltins lists only the registered commands
// when the built-in subset is off.
func TestGetCommandMetadataWithoutBuiltins(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{Users: map[string]string{}, DisableBuiltins: true})
	srv.Handle("Get-Widget", wsmantest.HandlerFunc(func(context.Context, *wsmantest.Invocation) error { return nil }))
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	_, res := getCommandMetadata(t, c, &psrp.GetCommandMetadata{CommandType: int32(psrp.CommandTypeAll)})
	assert.Equal(t, []string{"Get-Widget"}, names(res))
}
