package psrp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// TestPowerShellStatementsRecorded checks the encoding of a pipeline with
// several statements against the recorded CREATE_PIPELINE messages: the
// statements built with NewPowerShell encode to the recorded bytes
// (ExtraCmds lists every statement, the first included, and Cmds repeats
// the first), and Statements reads back what the server runs.
func TestPowerShellStatementsRecorded(t *testing.T) {
	for _, tc := range []struct {
		file  string
		count int
		first string
		last  string
	}{
		{"test_psrp_long_running_cmdlet", 2, "Start-Sleep", "echo hi"},
		{"test_client_execute_ps_environment", 8, "New-Item", "Invoke-Expression"},
		{"test_psrp_multiple_commands", 10, "", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d := find(t, tc.file, psrp.MessageCreatePipeline, 0).(*psrp.CreatePipeline)
			stmts := d.PowerShell.Statements()
			require.Len(t, stmts, tc.count)
			if tc.first != "" {
				assert.Equal(t, tc.first, stmts[0][0].Cmd)
				assert.Equal(t, tc.last, stmts[len(stmts)-1][0].Cmd)
			}
			// The recorded Cmds is the first statement again.
			assert.Equal(t, stmts[0], d.PowerShell.Cmds)

			// Rebuild the statements from their fields alone.
			rebuilt := make([][]psrp.Command, len(stmts))
			for i, st := range stmts {
				for _, c := range st {
					c.Raw = nil
					rebuilt[i] = append(rebuilt[i], c)
				}
			}
			want, err := clixml.Marshal(d.PowerShell.Raw)
			require.NoError(t, err)
			ps := psrp.NewPowerShell(rebuilt...)
			got, err := clixml.Marshal(ps.ToCLIXML())
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))

			// ExtraCmds alone (Cmds left empty) encodes the same.
			ps2 := psrp.PowerShell{ExtraCmds: rebuilt}
			got2, err := clixml.Marshal(ps2.ToCLIXML())
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got2))
		})
	}
}

// TestPowerShellSingleStatement checks that one statement is sent in Cmds
// alone with ExtraCmds <Nil>, as in test_psrp_clear_commands.yml.
func TestPowerShellSingleStatement(t *testing.T) {
	d := find(t, "test_psrp_clear_commands", psrp.MessageCreatePipeline, 0).(*psrp.CreatePipeline)
	require.Nil(t, d.PowerShell.ExtraCmds)
	stmts := d.PowerShell.Statements()
	require.Len(t, stmts, 1)
	var cmds []psrp.Command
	for _, c := range stmts[0] {
		c.Raw = nil
		cmds = append(cmds, c)
	}
	ps := psrp.NewPowerShell(cmds)
	assert.Nil(t, ps.ExtraCmds)
	want, err := clixml.Marshal(d.PowerShell.Raw)
	require.NoError(t, err)
	got, err := clixml.Marshal(ps.ToCLIXML())
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))

	var empty psrp.PowerShell
	assert.Nil(t, empty.Statements())
	empty.SetStatements()
	assert.Nil(t, empty.Cmds)
	assert.Nil(t, empty.ExtraCmds)
}
