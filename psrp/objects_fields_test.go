package psrp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

func dictString(t *testing.T, d *clixml.Object, key string) string {
	t.Helper()
	v := psrp.DictLookup(d, key)
	switch x := v.(type) {
	case clixml.String:
		return string(x)
	case clixml.Version:
		return string(x)
	}
	t.Fatalf("key %q: %#v", key, v)
	return ""
}

// Field values of real messages, one or more per message type found in the
// recordings.
func TestRecordedMessageFields(t *testing.T) {
	tests := []struct {
		file  string
		typ   psrp.MessageType
		n     int
		check func(t *testing.T, d psrp.MessageData)
	}{
		{"test_psrp_open_runspace", psrp.MessageSessionCapability, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.SessionCapability)
			assert.Equal(t, "2.3", x.ProtocolVersion)
			assert.Equal(t, "2.0", x.PSVersion)
			assert.Equal(t, "1.1.0.1", x.SerializationVersion)
			assert.Nil(t, x.TimeZone)
		}},
		{"test_psrp_application_args", psrp.MessageInitRunspacePool, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InitRunspacePool)
			assert.Equal(t, int32(1), x.MinRunspaces)
			assert.Equal(t, int32(1), x.MaxRunspaces)
			assert.Equal(t, psrp.PSThreadOptionsDefault, x.ThreadOptions)
			assert.Equal(t, psrp.ApartmentUnknown, x.ApartmentState)
			assert.Equal(t, psrp.TypeApartmentStateOld, x.ApartmentStateType)
			assert.Equal(t, psrp.NoHost().IsHostNull, x.HostInfo.IsHostNull)
			assert.True(t, x.HostInfo.UseRunspaceHost)
			assert.Nil(t, x.HostInfo.DefaultData)
			require.NotNil(t, x.ApplicationArguments)
			assert.Equal(t, psrp.TypePSPrimitiveDict, x.ApplicationArguments.TypeName())
			assert.Equal(t, "abcdef12345", dictString(t, x.ApplicationArguments, "test_var"))
		}},
		{"ironposh_creationXml", psrp.MessageInitRunspacePool, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InitRunspacePool)
			assert.Equal(t, "", x.ApartmentStateType, "System.Threading.ApartmentState is the default")
			assert.False(t, x.HostInfo.IsHostNull)
			assert.False(t, x.HostInfo.UseRunspaceHost)
			require.Len(t, x.HostInfo.DefaultData, 10)
			title := x.HostInfo.DefaultData[0]
			assert.Equal(t, int32(psrp.HostDataWindowTitle), title.Key)
			assert.Equal(t, "System.String", title.Type)
			assert.Equal(t, clixml.String("PowerShell"), title.Value)
			fg := x.HostInfo.DefaultData[9]
			assert.Equal(t, int32(psrp.HostDataForegroundColor), fg.Key)
			assert.Equal(t, clixml.Int32(7), fg.Value)
			psv, ok := psrp.DictLookup(x.ApplicationArguments, "PSVersionTable").(*clixml.Object)
			require.True(t, ok)
			assert.Equal(t, "7.4.10", dictString(t, psv, "PSVersion"))
		}},
		{"test_psrp_key_exchange_timeout", psrp.MessagePublicKey, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.PublicKey)
			require.Greater(t, len(x.Key), 20)
			assert.Equal(t, byte(0x06), x.Key[0], "PUBLICKEYBLOB")
			assert.Equal(t, "RSA1", string(x.Key[8:12]))
		}},
		{"test_psrp_multiple_commands", psrp.MessageEncryptedSessionKey, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.EncryptedSessionKey)
			require.Greater(t, len(x.Key), 12)
			assert.Equal(t, byte(0x01), x.Key[0], "SIMPLEBLOB")
		}},
		{"test_psrp_set_runspaces", psrp.MessageSetMaxRunspaces, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.SetMaxRunspaces)
			assert.Equal(t, int32(5), x.MaxRunspaces)
			assert.Equal(t, int64(1), x.CallID)
		}},
		{"test_psrp_set_runspaces", psrp.MessageSetMinRunspaces, 1, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.SetMinRunspaces)
			assert.Equal(t, int32(-1), x.MinRunspaces)
			assert.Equal(t, int64(4), x.CallID)
		}},
		{"test_psrp_set_runspaces", psrp.MessageGetAvailableRunspaces, 1, func(t *testing.T, d psrp.MessageData) {
			assert.Equal(t, int64(2), d.(*psrp.GetAvailableRunspaces).CallID)
		}},
		{"test_psrp_set_runspaces", psrp.MessageRunspaceAvailability, 2, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.RunspaceAvailability)
			assert.True(t, x.IsCount)
			assert.Equal(t, int64(5), x.Count)
			assert.Equal(t, int64(2), x.CallID)
		}},
		{"test_psrp_set_runspaces", psrp.MessageRunspaceAvailability, 4, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.RunspaceAvailability)
			assert.False(t, x.IsCount)
			assert.False(t, x.Success)
			assert.Equal(t, int64(4), x.CallID)
		}},
		{"test_psrp_reset_runspace_state", psrp.MessageResetRunspaceState, 0, func(t *testing.T, d psrp.MessageData) {
			assert.Equal(t, int64(0), d.(*psrp.ResetRunspaceState).CallID)
		}},
		{"test_psrp_open_runspace", psrp.MessageRunspacePoolState, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.RunspacePoolStateInfo)
			assert.Equal(t, psrp.RunspacePoolOpened, x.State)
			assert.Nil(t, x.Error)
		}},
		{"test_psrp_open_runspace", psrp.MessageApplicationPrivateData, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.ApplicationPrivateData)
			psv := x.PSVersionTable()
			require.NotNil(t, psv)
			assert.Equal(t, "5.1.14393.2248", dictString(t, psv, "PSVersion"))
			assert.Equal(t, "2.3", dictString(t, psv, "PSRemotingProtocolVersion"))
		}},
		{"test_psrp_disconnected_commands", psrp.MessageConnectRunspacePool, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.ConnectRunspacePool)
			assert.False(t, x.HasCounts, "pypsrp sends <S />")
			assert.Equal(t, clixml.String(""), x.Raw)
		}},
		{"test_psrp_disconnected_commands", psrp.MessageRunspacePoolInitData, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.RunspacePoolInitData)
			assert.Equal(t, int32(1), x.MinRunspaces)
			assert.Equal(t, int32(1), x.MaxRunspaces)
		}},
		{"test_psrp_merge_commands", psrp.MessageCreatePipeline, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.CreatePipeline)
			assert.True(t, x.NoInput)
			assert.Equal(t, psrp.RemoteStreamAddInvocationInfo, x.RemoteStreamOptions)
			assert.False(t, x.AddToHistory)
			assert.False(t, x.IsNested)
			require.NotEmpty(t, x.PowerShell.ExtraCmds)
			c := x.PowerShell.ExtraCmds[0][0]
			assert.True(t, c.IsScript)
			assert.Contains(t, c.Cmd, "Write-Information 'information stream'")
			assert.Nil(t, c.UseLocalScope)
			assert.Equal(t, psrp.PipelineResultError, c.MergeMyResult)
			assert.Equal(t, psrp.PipelineResultOutput, c.MergeToResult)
			assert.Equal(t, psrp.PipelineResultOutput|psrp.PipelineResultError, c.MergePreviousResults)
			for _, m := range []psrp.PipelineResultTypes{c.MergeError, c.MergeWarning, c.MergeVerbose, c.MergeDebug, c.MergeInformation} {
				assert.Equal(t, psrp.PipelineResultOutput, m)
			}
		}},
		{"test_psrp_clear_commands", psrp.MessageCreatePipeline, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.CreatePipeline)
			require.NotEmpty(t, x.PowerShell.Cmds)
			assert.Nil(t, x.PowerShell.ExtraCmds)
			assert.Equal(t, "", x.PowerShell.History)
		}},
		{"test_psrp_with_history", psrp.MessageCreatePipeline, 0, func(t *testing.T, d psrp.MessageData) {
			assert.True(t, d.(*psrp.CreatePipeline).AddToHistory)
		}},
		{"test_psrp_nested_command", psrp.MessageCreatePipeline, 1, func(t *testing.T, d psrp.MessageData) {
			assert.True(t, d.(*psrp.CreatePipeline).IsNested)
		}},
		{"test_psrp_get_command_metadata", psrp.MessageGetCommandMetadata, 2, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.GetCommandMetadata)
			assert.Equal(t, []string{"Get-*"}, x.Name)
			assert.Equal(t, int32(511), x.CommandType)
			assert.Equal(t, []string{"Microsoft.WSMan.Management"}, x.Namespace)
			assert.Nil(t, x.ArgumentList)
		}},
		{"test_psrp_pshost_ui_mocked_methods", psrp.MessagePipelineHostCall, 2, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.HostCall)
			assert.True(t, x.Pipeline)
			assert.Equal(t, int64(-100), x.CallID)
			assert.Equal(t, psrp.HostWrite1, x.MethodID)
			assert.Equal(t, []clixml.Value{clixml.String("Write1")}, x.Params)
			assert.True(t, x.MethodID.Voids())
		}},
		{"test_psrp_pshost_ui_mocked_methods", psrp.MessagePipelineHostResponse, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.HostResponse)
			assert.Equal(t, psrp.MessagePipelineHostResponse, x.MessageType())
			assert.Equal(t, int64(1), x.CallID)
			assert.Equal(t, psrp.HostReadLine, x.MethodID)
			assert.Equal(t, clixml.String("ReadLine response"), x.Return)
			assert.Nil(t, x.Exception)
			assert.False(t, x.MethodID.Voids())
		}},
		{"test_psrp_with_input", psrp.MessagePipelineInput, 2, func(t *testing.T, d psrp.MessageData) {
			o, ok := d.(*psrp.PipelineInput).Value.(*clixml.Object)
			require.True(t, ok)
			assert.Equal(t, "System.Collections.Hashtable", o.TypeName())
		}},
		{"test_psrp_with_input", psrp.MessageEndOfPipelineInput, 0, func(t *testing.T, d psrp.MessageData) {
			assert.IsType(t, &psrp.EndOfPipelineInput{}, d)
		}},
		{"test_psrp_disconnected_commands", psrp.MessagePipelineOutput, 0, func(t *testing.T, d psrp.MessageData) {
			assert.Equal(t, clixml.String("a"), d.(*psrp.PipelineOutput).Value)
		}},
		{"test_psrp_merge_commands", psrp.MessageErrorRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.ErrorRecord)
			assert.Equal(t, "error stream", x.Message)
			assert.Equal(t, "error stream", x.Error())
			require.NotNil(t, x.Exception)
			assert.Equal(t, "Microsoft.PowerShell.Commands.WriteErrorException", x.Exception.TypeName())
			assert.Equal(t, "error stream", x.Exception.Message)
			assert.Equal(t, int32(-2146233087), x.Exception.HResult)
			assert.Nil(t, x.TargetObject)
			assert.Equal(t, "Microsoft.PowerShell.Commands.WriteErrorException", x.FullyQualifiedErrorID)
			assert.Equal(t, psrp.ErrorCategoryNotSpecified, x.Category)
			assert.Equal(t, "Write-Error", x.Activity)
			assert.Equal(t, "WriteErrorException", x.Reason)
			assert.Equal(t, "NotSpecified: (:) [Write-Error], WriteErrorException", x.CategoryMessage)
			assert.True(t, x.SerializeExtendedInfo)
			require.NotNil(t, x.InvocationInfo)
			assert.Equal(t, "System.Management.Automation.InvocationInfo", x.InvocationInfo.TypeName())
			names := map[string]bool{}
			for _, p := range x.ExtendedInfo {
				names[p.Name] = true
			}
			assert.True(t, names["InvocationInfo_BoundParameters"])
			assert.True(t, names["CommandInfo_CommandType"])
			assert.True(t, names["PipelineIterationInfo"])
			require.NotNil(t, x.WriteErrorStream)
			assert.True(t, *x.WriteErrorStream)
			require.NotNil(t, x.PSMessageDetails)
			assert.Equal(t, "", *x.PSMessageDetails)
		}},
		{"test_psrp_stream_no_output_invocation", psrp.MessageErrorRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.ErrorRecord)
			assert.False(t, x.SerializeExtendedInfo)
			assert.Empty(t, x.ExtendedInfo)
			assert.Equal(t, "at <ScriptBlock>, <No file>: line 5", x.ErrorDetailsScriptStackTrace)
		}},
		{"test_psrp_error_failed", psrp.MessagePipelineState, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.PipelineStateInfo)
			assert.Equal(t, psrp.PSInvocationFailed, x.State)
			assert.True(t, x.State.Terminal())
			require.NotNil(t, x.Error)
			require.NotNil(t, x.Error.Exception)
			assert.Equal(t, "Microsoft.PowerShell.Commands.WriteErrorException", x.Error.Exception.TypeName())
			assert.Contains(t, x.Error.Exception.TypeNames, "System.Exception")
		}},
		{"test_psrp_disconnected_commands", psrp.MessagePipelineState, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.PipelineStateInfo)
			assert.Equal(t, psrp.PSInvocationCompleted, x.State)
			assert.Nil(t, x.Error)
		}},
		{"test_psrp_merge_commands", psrp.MessageDebugRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InformationalRecord)
			assert.Equal(t, psrp.MessageDebugRecord, x.MessageType())
			assert.Equal(t, "debug stream", x.Message)
		}},
		{"test_psrp_stream_output_invocation", psrp.MessageVerboseRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InformationalRecord)
			assert.Equal(t, psrp.MessageVerboseRecord, x.Type)
			assert.Equal(t, "verbose stream", x.Message)
			assert.True(t, x.SerializeInvocationInfo)
			assert.NotEmpty(t, x.InvocationInfo)
		}},
		{"test_psrp_merge_commands", psrp.MessageWarningRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InformationalRecord)
			assert.Equal(t, psrp.MessageWarningRecord, x.Type)
			assert.Equal(t, "warning stream", x.Message)
		}},
		{"test_psrp_merge_commands", psrp.MessageInformationRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.InformationRecord)
			assert.Equal(t, clixml.String("information stream"), x.MessageData)
			assert.Equal(t, "Write-Information", x.Source)
			assert.Equal(t, []string{}, x.Tags)
			assert.Equal(t, "WIN-NNMU24VVKJ0", x.Computer)
			assert.Equal(t, `WIN-NNMU24VVKJ0\vagrant`, x.User)
			assert.NotZero(t, x.ProcessID)
			dt, ok := x.TimeGenerated.(clixml.DateTime)
			require.True(t, ok)
			assert.Equal(t, 2018, dt.Time.Year())
		}},
		{"test_psrp_disconnected_commands", psrp.MessageProgressRecord, 0, func(t *testing.T, d psrp.MessageData) {
			x := d.(*psrp.ProgressRecord)
			assert.Equal(t, "Preparing modules for first use.", x.Activity)
			assert.Equal(t, int32(0), x.ActivityID)
			assert.Equal(t, " ", x.StatusDescription)
			assert.Equal(t, "", x.CurrentOperation)
			assert.Equal(t, int32(-1), x.ParentActivityID)
			assert.Equal(t, int32(-1), x.PercentComplete)
			assert.Equal(t, int32(-1), x.SecondsRemaining)
			assert.Equal(t, psrp.ProgressCompleted, x.RecordType)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.typ.String(), func(t *testing.T) {
			tc.check(t, find(t, tc.file, tc.typ, tc.n))
		})
	}
}
