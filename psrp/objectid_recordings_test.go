package psrp_test

import (
	"bytes"
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
// It is the evidence behind the client's duplicate and gap rules
// (exactly_once.go): the server numbers the messages of a shell with one
// counter shared by the pool and its pipelines (so a target's ObjectIds skip
// the values of the others), per target the ObjectIds only increase, but
// per shell they do not (output queued before a disconnect comes after the
// connect response's later ObjectIds). The test fails if an ObjectId goes
// down within a target or names two different messages; an identical
// repeat (the replayed responses of the disconnect recordings) is counted
// as a duplicate.
func TestRecordedObjectIDOrder(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	files, err := recordings.PypsrpFiles(dir)
	require.NoError(t, err)
	type key struct{ file, shell, target string }
	last := map[key]uint64{}
	seen := map[key]map[uint64][]byte{}
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
			if seen[k] == nil {
				seen[k] = map[uint64][]byte{}
			}
			if raw, ok := seen[k][m.ObjectID]; ok {
				// The same ObjectId again: a replayed response in the
				// recording (pypsrp's disconnect recordings reuse
				// responses), or a retransmission; either way a duplicate.
				repeats++
				if !bytes.Equal(raw, m.Raw) {
					t.Errorf("%s %s: ObjectId %d reused for a different message", rec.Name, target, m.ObjectID)
				}
				continue
			}
			seen[k][m.ObjectID] = m.Raw
			if prev, ok := last[k]; ok {
				switch {
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
	// Per shell, the ObjectIds received form one run without holes.
	perShell := map[[2]string]map[uint64]bool{}
	for k, ids := range seen {
		sk := [2]string{k.file, k.shell}
		if perShell[sk] == nil {
			perShell[sk] = map[uint64]bool{}
		}
		for id := range ids {
			perShell[sk][id] = true
		}
	}
	holes := 0
	for sk, ids := range perShell {
		lo, hi := uint64(1<<63), uint64(0)
		for id := range ids {
			lo, hi = min(lo, id), max(hi, id)
		}
		if missing := int(hi-lo+1) - len(ids); missing != 0 {
			holes += missing
			t.Errorf("%s shell %s: %d ObjectIds missing between %d and %d", sk[0], sk[1], missing, lo, hi)
		}
	}
	sort.Strings(downExamples)
	t.Logf("server messages %d in %d targets (pool or pipeline per shell); per shell, ObjectId not increasing %d times; "+
		"per target: repeated %d, decreasing %d, skipping a value %d; per shell, ObjectIds missing %d", msgs, len(targets),
		shellDown, repeats, targetDown, targetSkip, holes)
	assert.Empty(t, downExamples, "a server ObjectId decreasing within a target")
}
