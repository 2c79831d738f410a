package psrp_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
)

// TestRecordedObjectIDOrder reports, over every pypsrp recording, how the
// ObjectIds of the messages a real Windows server sends are ordered: per
// shell (all targets together) and per target (the pool, or one pipeline).
// It is the evidence behind ReceiveTracker's rules: it fails if a server
// ObjectId is ever repeated within a target or goes down within a
// target, and logs how often it goes down per shell and how often a
// target's ObjectIds skip a value.
func TestRecordedObjectIDOrder(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	files, err := recordings.PypsrpFiles(dir)
	require.NoError(t, err)
	type key struct{ file, shell, target string }
	last := map[key]uint64{}
	lastShell := map[[2]string]uint64{}
	var msgs, shellDown, targetSkip, targetDown, repeats int
	var downExamples []string
	targets := map[key]bool{}
	for _, f := range files {
		rec, err := recordings.Load(f)
		require.NoError(t, err)
		ms, err := psrptrace.Recording(rec)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Direction != psrptrace.Response {
				continue
			}
			msgs++
			target := "pool"
			if m.Message.PipelineID != uuid.Nil {
				target = m.Message.PipelineID.String()
			}
			k := key{rec.Name, strings.ToUpper(m.ShellID), target}
			sk := [2]string{rec.Name, strings.ToUpper(m.ShellID)}
			if prev, ok := lastShell[sk]; ok && m.ObjectID <= prev {
				shellDown++
			}
			lastShell[sk] = max(lastShell[sk], m.ObjectID)
			if prev, ok := last[k]; ok {
				switch {
				case m.ObjectID == prev:
					repeats++
				case m.ObjectID < prev:
					targetDown++
					downExamples = append(downExamples, fmt.Sprintf("%s %s: %d after %d", rec.Name, target, m.ObjectID, prev))
				case m.ObjectID > prev+1:
					targetSkip++
				}
			}
			targets[k] = true
			last[k] = max(last[k], m.ObjectID)
		}
	}
	sort.Strings(downExamples)
	t.Logf("server messages %d in %d targets (pool or pipeline per shell); per shell, ObjectId not increasing %d times; "+
		"per target: repeated %d, decreasing %d, skipping a value %d", msgs, len(targets), shellDown, repeats, targetDown, targetSkip)
	assert.Zero(t, repeats, "a server ObjectId repeated within a target")
	assert.Empty(t, downExamples, "a server ObjectId decreasing within a target")
}
