package psrp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/psremoting/psremoting/psrp"
)

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{psrp.RunspacePoolOpened.String(), "Opened"},
		{psrp.RunspacePoolConnecting.String(), "Connecting"},
		{psrp.RunspacePoolState(42).String(), "RunspacePoolState(42)"},
		{psrp.PSInvocationDisconnected.String(), "Disconnected"},
		{psrp.PSInvocationState(-1).String(), "PSInvocationState(-1)"},
		{psrp.PSThreadOptionsUseCurrentThread.String(), "UseCurrentThread"},
		{psrp.ApartmentUnknown.String(), "Unknown"},
		{psrp.RemoteStreamAddInvocationInfo.String(), "AddInvocationInfo"},
		{psrp.RemoteStreamNone.String(), "None"},
		{(psrp.RemoteStreamAddInvocationInfoToErrorRecord | psrp.RemoteStreamAddInvocationInfoToVerboseRecord).String(),
			"AddInvocationInfoToErrorRecord, AddInvocationInfoToVerboseRecord"},
		{psrp.RemoteStreamOptions(16).String(), "RemoteStreamOptions(16)"},
		{psrp.PipelineResultInformation.String(), "Information"},
		{psrp.ProgressCompleted.String(), "Completed"},
		{psrp.ErrorCategoryNotEnabled.String(), "NotEnabled"},
		{psrp.ErrorCategoryObjectNotFound.String(), "ObjectNotFound"},
		{psrp.HostReadLine.String(), "ReadLine"},
		{psrp.HostPromptForChoiceMultipleSelection.String(), "PromptForChoiceMultipleSelection"},
		{psrp.HostMethodID(0).String(), "HostMethodID(0)"},
		{psrp.HostMethodID(57).String(), "HostMethodID(57)"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.got)
	}
	assert.Equal(t, 31, int(psrp.ErrorCategoryNotEnabled))
	assert.Equal(t, 56, int(psrp.HostPromptForChoiceMultipleSelection))
}

func TestInvocationStateTerminal(t *testing.T) {
	for s := psrp.PSInvocationNotStarted; s <= psrp.PSInvocationDisconnected; s++ {
		want := s == psrp.PSInvocationStopped || s == psrp.PSInvocationCompleted || s == psrp.PSInvocationFailed
		assert.Equal(t, want, s.Terminal(), s.String())
	}
}

func TestHostMethodVoids(t *testing.T) {
	returning := map[psrp.HostMethodID]bool{
		psrp.HostGetName: true, psrp.HostGetVersion: true, psrp.HostGetInstanceID: true, psrp.HostGetCurrentCulture: true,
		psrp.HostGetCurrentUICulture: true, psrp.HostReadLine: true, psrp.HostReadLineAsSecureString: true,
		psrp.HostPrompt: true, psrp.HostPromptForCredential1: true, psrp.HostPromptForCredential2: true,
		psrp.HostPromptForChoice: true, psrp.HostGetForegroundColor: true, psrp.HostGetBackgroundColor: true,
		psrp.HostGetCursorPosition: true, psrp.HostGetWindowPosition: true, psrp.HostGetCursorSize: true,
		psrp.HostGetBufferSize: true, psrp.HostGetWindowSize: true, psrp.HostGetWindowTitle: true,
		psrp.HostGetMaxWindowSize: true, psrp.HostGetMaxPhysicalWindowSize: true, psrp.HostGetKeyAvailable: true,
		psrp.HostReadKey: true, psrp.HostGetBufferContents: true, psrp.HostGetIsRunspacePushed: true,
		psrp.HostGetRunspace: true, psrp.HostPromptForChoiceMultipleSelection: true,
	}
	for m := psrp.HostGetName; m <= psrp.HostPromptForChoiceMultipleSelection; m++ {
		assert.Equal(t, !returning[m], m.Voids(), m.String())
	}
}
