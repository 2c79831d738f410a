package psrptrace

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// ironPoshName names the genuine pwsh 7.4.10 creationXml in traces.
const ironPoshName = "ironposh/psrp/creationXml"

// Number of PSRP messages in the 66 pypsrp recordings, and in the pwsh
// 7.4.10 creationXml of ironPosh.
const (
	wantPypsrpMessages   = 701
	wantIronPoshMessages = 2
)

var (
	conformanceOnce     sync.Once
	conformancePypsrp   []Message
	conformanceIronPosh []Message
	conformanceErr      error
)

// conformanceMessages traces every recording and the ironPosh creationXml
// (once per test binary), failing on any error, which includes a partial
// message left at the end of a recording.
func conformanceMessages(t *testing.T) (pypsrp, ironposh []Message) {
	t.Helper()
	dir := recordings.DirOrSkip(t)
	conformanceOnce.Do(func() {
		files, err := recordings.PypsrpFiles(dir)
		if err != nil {
			conformanceErr = err
			return
		}
		if len(files) != 66 {
			conformanceErr = fmt.Errorf("found %d pypsrp recordings, want 66", len(files))
			return
		}
		for _, f := range files {
			r, err := recordings.Load(f)
			if err != nil {
				conformanceErr = err
				return
			}
			ms, err := Recording(r)
			if err != nil {
				conformanceErr = fmt.Errorf("%s: %w", r.Name, err)
				return
			}
			conformancePypsrp = append(conformancePypsrp, ms...)
		}
		b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml"))
		if err != nil {
			conformanceErr = err
			return
		}
		conformanceIronPosh, conformanceErr = Trace(ironPoshName, b, FormatAuto)
	})
	require.NoError(t, conformanceErr)
	return conformancePypsrp, conformanceIronPosh
}

// TestConformanceRecordings is the acceptance test: every recorded
// message is reassembled, parsed, its CLIXML and its protocol object
// decoded, and the count per type is logged.
func TestConformanceRecordings(t *testing.T) {
	pypsrp, ironposh := conformanceMessages(t)
	assert.Len(t, pypsrp, wantPypsrpMessages, "PSRP messages in the pypsrp recordings")
	assert.Len(t, ironposh, wantIronPoshMessages, "PSRP messages in ironposh/psrp/creationXml")

	counts := map[psrp.MessageType]int{}
	files := map[string]bool{}
	for _, m := range append(append([]Message(nil), pypsrp...), ironposh...) {
		counts[m.Message.Type]++
		files[m.File] = true
		require.NotNil(t, m.Object, "%s exchange %d %s", m.File, m.Exchange, m.Message.Type)
		assert.Equal(t, m.Message.Type, m.Object.MessageType(), "%s exchange %d", m.File, m.Exchange)
		if len(m.Message.Data) > 0 {
			require.NotNil(t, m.Value)
		}
	}
	types := make([]psrp.MessageType, 0, len(counts))
	for ty := range counts {
		types = append(types, ty)
	}
	sort.Slice(types, func(i, j int) bool {
		if counts[types[i]] != counts[types[j]] {
			return counts[types[i]] > counts[types[j]]
		}
		return types[i] < types[j]
	})
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "PSRP messages per type (66 pypsrp recordings: %d, ironPosh creationXml: %d; %d files with PSRP):\n",
		len(pypsrp), len(ironposh), len(files))
	for _, ty := range types {
		fmt.Fprintf(&tbl, "  %-28s %4d\n", ty, counts[ty])
	}
	fmt.Fprintf(&tbl, "  %-28s %4d", "total", len(pypsrp)+len(ironposh))
	t.Log(tbl.String())
}

// TestConformanceRoundTrip checks, for every recorded message:
//   - the codec writes the recorded message bytes back exactly (header,
//     GUID byte order, BOM, data);
//   - CLIXML decode → encode → decode gives an equal value, and what .NET
//     wrote (every server message, the pwsh client's creationXml) encodes
//     back to the recorded bytes exactly;
//   - the protocol object, with every kept Raw value cleared so that it is
//     re-encoded from its fields, goes through psrp.NewMessageFor, fragments
//     and the defragmenter and decodes to an equal object.
//
// It also counts the messages whose CLIXML re-encodes byte for byte, and
// whose object re-encoded from its fields equals the recorded value, and
// logs both.
func TestConformanceRoundTrip(t *testing.T) {
	pypsrp, ironposh := conformanceMessages(t)
	all := append(append([]Message(nil), pypsrp...), ironposh...)
	var sameBytes, sameShape int
	shapeDiff := map[psrp.MessageType]int{}
	for _, m := range all {
		where := fmt.Sprintf("%s exchange %d %s %s ObjectId %d", m.File, m.Exchange, m.Direction, m.Message.Type, m.ObjectID)
		// Message bytes.
		bom := bytes.HasPrefix(m.Raw[psrp.MessageHeaderSize:], []byte("\xef\xbb\xbf"))
		require.Equal(t, m.Raw, psrp.AppendMessage(nil, m.Message, bom), where)

		// CLIXML value.
		if m.Value != nil {
			enc, err := clixml.Marshal(m.Value)
			require.NoError(t, err, where)
			back, err := clixml.Unmarshal(enc)
			require.NoError(t, err, where)
			require.True(t, clixml.Equal(m.Value, back), "%s: CLIXML round trip differs:\n%s\n%s", where, m.Message.Data, enc)
			if bytes.Equal(enc, m.Message.Data) {
				sameBytes++
			} else if m.Direction == Response || m.File == ironPoshName {
				// What .NET wrote (Windows servers, the pwsh client) the
				// codec writes back byte for byte; only pypsrp's own
				// encodings (attribute order, <S />) differ.
				t.Errorf("%s: written by .NET but not re-encoded byte for byte:\n%s\n%s", where, m.Message.Data, enc)
			}
		}

		// Protocol object re-encoded from its fields.
		obj, err := psrp.DecodeValue(m.Message.Type, m.Value)
		require.NoError(t, err, where)
		stripRaw(obj)
		rebuilt := obj.ToCLIXML()
		if (rebuilt == nil && m.Value == nil) || (rebuilt != nil && m.Value != nil && clixml.Equal(rebuilt, m.Value)) {
			sameShape++
		} else {
			shapeDiff[m.Message.Type]++
		}
		msg, err := psrp.NewMessageFor(m.Message.Destination, m.Message.RunspacePoolID, m.Message.PipelineID, obj)
		require.NoError(t, err, where)
		wire := psrp.AppendMessage(nil, msg, bom)
		var payload []byte
		for _, f := range psrp.SplitMessage(m.ObjectID, wire, 512) {
			payload = f.AppendTo(payload)
		}
		got, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(payload)
		require.NoError(t, err, where)
		require.Len(t, got, 1, where)
		assert.Equal(t, m.Message.Type, got[0].Type, where)
		assert.Equal(t, m.Message.Destination, got[0].Destination, where)
		assert.Equal(t, m.Message.RunspacePoolID, got[0].RunspacePoolID, where)
		assert.Equal(t, m.Message.PipelineID, got[0].PipelineID, where)
		obj2, err := psrp.DecodeMessageData(got[0])
		require.NoError(t, err, "%s: re-encoded object does not decode:\n%s", where, got[0].Data)
		stripRaw(obj2)
		if !reflect.DeepEqual(obj, obj2) {
			t.Errorf("%s: object re-encoded from its fields decodes differently:\nwant %#v\ngot  %#v\nrecorded: %s\nre-encoded: %s", where, obj, obj2, m.Message.Data, got[0].Data)
		}
	}
	t.Logf("%d messages: CLIXML re-encoded byte for byte: %d; object re-encoded from its fields equal to the recorded value: %d (differing per type: %v)",
		len(all), sameBytes, sameShape, shapeDiff)
}

// stripRaw clears every Raw field reachable from v through pointers,
// structs and slices (not through CLIXML values), so that ToCLIXML encodes
// from the fields.
func stripRaw(v any) {
	stripRawValue(reflect.ValueOf(v))
}

var clixmlPkg = reflect.TypeOf(clixml.Object{}).PkgPath()

func stripRawValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripRawValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type().PkgPath() == clixmlPkg {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if v.Type().Field(i).Name == "Raw" && f.CanSet() {
				f.Set(reflect.Zero(f.Type()))
				continue
			}
			stripRawValue(f)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().PkgPath() == clixmlPkg {
			return
		}
		for i := 0; i < v.Len(); i++ {
			stripRawValue(v.Index(i))
		}
	}
}
