package psrp_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// CLIXMLShape describes the shape of a value: type names, ToString
// presence, property names and tags in order, container kinds, and the
// shape of the first item or entry of a container (lengths may differ).
func CLIXMLShape(v clixml.Value) string {
	o, ok := v.(*clixml.Object)
	if !ok || o == nil {
		if v == nil {
			return "-"
		}
		return v.Tag()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Obj[%s]", strings.Join(o.TypeNames, "|"))
	if o.HasToString {
		b.WriteString("ToString")
	}
	if o.Inner != nil {
		fmt.Fprintf(&b, "(%s)", CLIXMLShape(o.Inner))
	}
	fmt.Fprintf(&b, "kind%d", o.Kind)
	if len(o.Items) > 0 {
		fmt.Fprintf(&b, "[%s...]", CLIXMLShape(o.Items[0]))
	}
	if len(o.Entries) > 0 {
		fmt.Fprintf(&b, "{%s:%s...}", CLIXMLShape(o.Entries[0].Key), CLIXMLShape(o.Entries[0].Value))
	}
	for _, p := range o.Adapted {
		fmt.Fprintf(&b, " P:%s=%s", p.Name, CLIXMLShape(p.Value))
	}
	for _, p := range o.Extended {
		fmt.Fprintf(&b, " M:%s=%s", p.Name, CLIXMLShape(p.Value))
	}
	return b.String()
}

// recordedMetadataAnswers returns, per GET_COMMAND_METADATA of the
// recording in order, the request and the PIPELINE_OUTPUT values Windows
// answered with.
func recordedMetadataAnswers(t *testing.T) ([]*psrp.GetCommandMetadata, [][]clixml.Value) {
	t.Helper()
	msgs, err := psrptrace.Recording(recordings.LoadNamed(t, "test_psrp_get_command_metadata"))
	require.NoError(t, err)
	var reqs []*psrp.GetCommandMetadata
	var outs [][]clixml.Value
	index := map[uuid.UUID]int{}
	for _, m := range msgs {
		switch m.Message.Type {
		case psrp.MessageGetCommandMetadata:
			v, err := clixml.Unmarshal(m.Message.Data)
			require.NoError(t, err)
			req, err := psrp.DecodeGetCommandMetadata(v)
			require.NoError(t, err)
			index[m.Message.PipelineID] = len(reqs)
			reqs = append(reqs, req)
			outs = append(outs, nil)
		case psrp.MessagePipelineOutput:
			i, ok := index[m.Message.PipelineID]
			require.True(t, ok)
			v, err := clixml.Unmarshal(m.Message.Data)
			require.NoError(t, err)
			outs[i] = append(outs[i], v)
		}
	}
	require.Len(t, reqs, 3)
	return reqs, outs
}

// TestReplayCommandMetadataAnswer decodes Windows' answers to the three
// recorded GET_COMMAND_METADATA requests, and checks that the encoder
// (which the fake server uses) produces the recorded shape from the decoded
// fields alone.
func TestReplayCommandMetadataAnswer(t *testing.T) {
	reqs, outs := recordedMetadataAnswers(t)
	assert.Equal(t, []string{"new-pssession*"}, reqs[0].Name)
	assert.Equal(t, int32(psrp.CommandTypeAll), reqs[0].CommandType)
	assert.Equal(t, int32(psrp.CommandTypeFunction), reqs[1].CommandType)
	assert.Equal(t, []string{"Microsoft.WSMan.Management"}, reqs[2].Namespace)

	want := []struct {
		names []string
		typ   psrp.CommandType
		ns    string
	}{
		{[]string{"New-PSSession", "New-PSSessionConfigurationFile", "New-PSSessionOption"}, psrp.CommandTypeCmdlet, "Microsoft.PowerShell.Core"},
		{[]string{"New-Guid", "New-TemporaryFile"}, psrp.CommandTypeFunction, "Microsoft.PowerShell.Utility"},
		{nil, psrp.CommandTypeCmdlet, "Microsoft.WSMan.Management"},
	}
	for i, out := range outs {
		res, err := psrp.DecodeCommandMetadataResult(out)
		require.NoError(t, err, "answer %d", i)
		require.Equal(t, int(res.Count), len(res.Commands))
		var names []string
		for _, c := range res.Commands {
			names = append(names, c.Name)
			assert.Equal(t, want[i].typ, c.CommandType, c.Name)
			assert.Equal(t, want[i].ns, c.Namespace, c.Name)
			assert.True(t, strings.HasPrefix(c.HelpURI, "https://go.microsoft.com/fwlink/"), c.HelpURI)
			assert.Empty(t, c.ResolvedCommandName)
			assert.NotEmpty(t, c.Parameters)
		}
		if want[i].names != nil {
			assert.Equal(t, want[i].names, names)
		} else {
			assert.Len(t, names, 2)
		}

		// The count and every command, rebuilt from their fields, have
		// the recorded shape.
		count := &psrp.CommandMetadataCount{Count: res.Count}
		assert.Equal(t, CLIXMLShape(out[0]), CLIXMLShape(count.ToCLIXML()))
		for j, c := range res.Commands {
			fresh := *c
			fresh.Raw = nil
			assert.Equal(t, CLIXMLShape(out[j+1]), CLIXMLShape(fresh.ToCLIXML()), c.Name)
			// and decode back to the same fields.
			again, err := psrp.DecodeCommandMetadata(fresh.ToCLIXML())
			require.NoError(t, err)
			again.Raw = nil
			if len(fresh.OutputType) == 0 {
				fresh.OutputType, again.OutputType = nil, nil
			}
			assert.Equal(t, &fresh, again)
		}
	}

	// New-PSSession's first parameter, as recorded.
	res, err := psrp.DecodeCommandMetadataResult(outs[0])
	require.NoError(t, err)
	np := res.Commands[0]
	assert.Equal(t, []string{"System.Management.Automation.Runspaces.PSSession"}, np.OutputType)
	require.Len(t, np.Parameters, 30)
	assert.Equal(t, psrp.ParameterMetadata{Name: "ComputerName", ParameterType: "System.String[]", Aliases: []string{"Cn"}}, np.Parameters[0])
	assert.Equal(t, psrp.ParameterMetadata{Name: "Verbose", ParameterType: "System.Management.Automation.SwitchParameter",
		Aliases: []string{"vb"}, SwitchParameter: true}, np.Parameters[19])
	// The decoded objects re-encode to exactly what was received.
	assert.Same(t, np.Raw, np.ToCLIXML())
}

func TestDecodeCommandMetadataResultErrors(t *testing.T) {
	count := func(n int32) clixml.Value { return (&psrp.CommandMetadataCount{Count: n}).ToCLIXML() }
	cmd := (&psrp.CommandMetadata{Name: "Get-Thing", CommandType: psrp.CommandTypeCmdlet}).ToCLIXML()
	for name, tc := range map[string]struct {
		out  []clixml.Value
		want int // commands decoded
	}{
		"empty":          {nil, -1},
		"count missing":  {[]clixml.Value{cmd}, -1},
		"too few":        {[]clixml.Value{count(2), cmd}, 1},
		"too many":       {[]clixml.Value{count(0), cmd}, 1},
		"not an object":  {[]clixml.Value{count(1), clixml.String("x")}, 0},
		"negative count": {[]clixml.Value{count(-1)}, -1},
		"no name":        {[]clixml.Value{count(1), (&psrp.CommandMetadataCount{Count: 1}).ToCLIXML()}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := psrp.DecodeCommandMetadataResult(tc.out)
			require.Error(t, err)
			assert.True(t, errors.Is(err, psrp.ErrInvalidMessageData), "%v", err)
			if tc.want < 0 {
				assert.Nil(t, res)
			} else {
				require.NotNil(t, res)
				assert.Len(t, res.Commands, tc.want)
			}
		})
	}
	res, err := psrp.DecodeCommandMetadataResult([]clixml.Value{count(1), cmd})
	require.NoError(t, err)
	assert.Equal(t, "Get-Thing", res.Commands[0].Name)
}

func TestCommandTypeString(t *testing.T) {
	assert.Equal(t, "Cmdlet", psrp.CommandTypeCmdlet.String())
	assert.Equal(t, "All", psrp.CommandTypeAll.String())
	assert.Equal(t, "Alias, Function", (psrp.CommandTypeAlias | psrp.CommandTypeFunction).String())
	assert.Equal(t, "4096", psrp.CommandType(4096).String())
}

// FuzzDecodeCommandMetadata feeds arbitrary CLIXML to the decoders of the
// GET_COMMAND_METADATA answer: no panic; what decodes re-encodes unchanged,
// and the object rebuilt from its fields decodes to the same fields.
func FuzzDecodeCommandMetadata(f *testing.F) {
	for _, v := range []clixml.Value{
		(&psrp.CommandMetadataCount{Count: 3}).ToCLIXML(),
		(&psrp.CommandMetadata{Name: "Get-Thing", Namespace: "M", HelpURI: "u", CommandType: psrp.CommandTypeAlias,
			ResolvedCommandName: "Get-Other", OutputType: []string{"System.String"},
			Parameters: []psrp.ParameterMetadata{{Name: "P", ParameterType: "System.String", Aliases: []string{"p"}}}}).ToCLIXML(),
	} {
		b, err := clixml.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<Obj RefId="0"><MS><S N="Name">x</S><I32 N="CommandType">8</I32><Obj N="Parameters" RefId="1"><DCT><En><S N="Key">k</S><Obj N="Value" RefId="2"><Props><S N="Name">k</S></Props></Obj></En></DCT></Obj></MS></Obj>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := clixml.Unmarshal(data)
		if err != nil {
			return
		}
		if c, err := psrp.DecodeCommandMetadataCount(v); err == nil {
			if c.ToCLIXML() != c.Raw {
				t.Fatal("a decoded count does not re-encode unchanged")
			}
			fresh := &psrp.CommandMetadataCount{Count: c.Count}
			again, err := psrp.DecodeCommandMetadataCount(fresh.ToCLIXML())
			if err != nil || again.Count != c.Count {
				t.Fatalf("rebuilt count: %v %+v", err, again)
			}
		}
		m, err := psrp.DecodeCommandMetadata(v)
		if err != nil {
			if !errors.Is(err, psrp.ErrInvalidMessageData) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if m.ToCLIXML() != m.Raw {
			t.Fatal("decoded metadata does not re-encode unchanged")
		}
		fresh := *m
		fresh.Raw = nil
		b, err := clixml.Marshal(fresh.ToCLIXML())
		if err != nil {
			t.Fatalf("encode rebuilt metadata: %v", err)
		}
		v2, err := clixml.Unmarshal(b)
		if err != nil {
			t.Fatalf("unmarshal rebuilt metadata: %v", err)
		}
		again, err := psrp.DecodeCommandMetadata(v2)
		if err != nil {
			t.Fatalf("decode rebuilt metadata: %v", err)
		}
		again.Raw = nil
		norm := func(x *psrp.CommandMetadata) {
			if len(x.OutputType) == 0 {
				x.OutputType = nil
			}
			if len(x.Parameters) == 0 {
				x.Parameters = nil
			}
			for i := range x.Parameters {
				if len(x.Parameters[i].Aliases) == 0 {
					x.Parameters[i].Aliases = nil
				}
			}
		}
		norm(&fresh)
		norm(again)
		if !reflect.DeepEqual(&fresh, again) {
			t.Fatalf("rebuilt metadata decodes differently:\n%+v\n%+v", &fresh, again)
		}
	})
}
