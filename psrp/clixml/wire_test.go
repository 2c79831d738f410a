package clixml

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

// wireMessage is one PSRP message reassembled from recorded traffic.
type wireMessage struct {
	where      string
	msgType    uint32
	fromServer bool
	data       []byte // CLIXML, BOM removed
}

// psrpPayloads returns the base64 texts of the elements that carry PSRP
// data in a SOAP envelope (a plain scan: a regexp is slow under -race).
func psrpPayloads(env string) []string {
	var out []string
	for i := 0; ; {
		j := strings.Index(env[i:], "</")
		if j < 0 {
			return out
		}
		j += i
		k := strings.LastIndexByte(env[:j], '>')
		end := strings.IndexByte(env[j:], '>')
		if k >= 0 && end > 0 {
			name := env[j+2 : j+end]
			if c := strings.IndexByte(name, ':'); c >= 0 {
				name = name[c+1:]
			}
			switch name {
			case "Stream", "creationXml", "connectXml", "connectResponseXml", "Arguments":
				out = append(out, env[k+1:j])
			}
		}
		i = j + 2
	}
}

// reassemble splits base64 payloads into PSRP fragments and joins them into
// messages. It is a minimal test-only defragmenter (the real one lives in
// package psrp); partial holds incomplete messages by ObjectId.
func reassemble(payload []byte, partial map[uint64][]byte, emit func([]byte)) error {
	for len(payload) > 0 {
		if len(payload) < 21 {
			return fmt.Errorf("short fragment header (%d bytes)", len(payload))
		}
		objID := binary.BigEndian.Uint64(payload[0:8])
		flags := payload[16]
		n := int(binary.BigEndian.Uint32(payload[17:21]))
		if 21+n > len(payload) {
			return fmt.Errorf("fragment blob of %d bytes overruns payload", n)
		}
		blob := payload[21 : 21+n]
		payload = payload[21+n:]
		if flags&1 != 0 {
			partial[objID] = nil
		}
		partial[objID] = append(partial[objID], blob...)
		if flags&2 != 0 {
			emit(partial[objID])
			delete(partial, objID)
		}
	}
	return nil
}

// wireMessages returns every PSRP message of the pypsrp recordings, fully
// reassembled from the YAML (the decoded/*.txt files cut long messages).
func wireMessages(tb testing.TB) []wireMessage {
	tb.Helper()
	var out []wireMessage
	for _, rec := range recordings.LoadAll(tb) {
		parts := map[bool]map[uint64][]byte{false: {}, true: {}}
		for i, ex := range rec.Messages {
			if strings.Contains(ex.Request, "windows/shell/cmd") {
				continue // WinRS: raw stdout, not PSRP
			}
			for _, side := range []struct {
				text   string
				server bool
			}{{ex.Request, false}, {ex.Response, true}} {
				for _, p := range psrpPayloads(side.text) {
					raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(p), ""))
					if err != nil || len(raw) == 0 {
						continue
					}
					where := fmt.Sprintf("%s[%d]", rec.Name, i)
					err = reassemble(raw, parts[side.server], func(msg []byte) {
						if len(msg) < 40 {
							tb.Errorf("%s: message of %d bytes", where, len(msg))
							return
						}
						data := bytes.TrimPrefix(msg[40:], []byte("\xef\xbb\xbf"))
						out = append(out, wireMessage{where: where, msgType: binary.LittleEndian.Uint32(msg[4:8]), fromServer: side.server, data: data})
					})
					if err != nil {
						tb.Errorf("%s: %v", where, err)
					}
				}
			}
		}
	}
	return out
}

// Every PSRP message of the 66 recordings decodes, round-trips to an equal
// value, and those Windows wrote re-encode to the same bytes.
func TestWireMessages(t *testing.T) {
	msgs := wireMessages(t)
	if len(msgs) != 701 {
		t.Errorf("found %d PSRP messages in the recordings, want 701", len(msgs))
	}
	decoded, same := 0, 0
	for _, m := range msgs {
		if len(m.data) == 0 {
			continue // END_OF_PIPELINE_INPUT and the like carry no data
		}
		v, err := Unmarshal(m.data)
		if err != nil {
			t.Errorf("%s type %#x: %v", m.where, m.msgType, err)
			continue
		}
		rv, err := DecoderOptions{reference: true}.Unmarshal(m.data)
		if err != nil || !Equal(v, rv) {
			t.Errorf("%s: reference decoder differs: %v", m.where, err)
		}
		decoded++
		enc, err := Marshal(v)
		if err != nil {
			t.Errorf("%s: Marshal: %v", m.where, err)
			continue
		}
		v2, err := Unmarshal(enc)
		if err != nil || !Equal(v, v2) {
			t.Errorf("%s: round trip failed: %v", m.where, err)
			continue
		}
		if m.fromServer {
			if bytes.Equal(enc, m.data) {
				same++
			} else {
				t.Errorf("%s: re-encoding differs from Windows' bytes", m.where)
			}
		}
	}
	t.Logf("%d messages, %d with CLIXML decoded and round-tripped, %d server messages re-encoded byte for byte", len(msgs), decoded, same)
}

// The genuine PowerShell 7.4 client creationXml decodes too.
func TestIronPoshCreationXML(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml"))
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = reassemble(raw, map[uint64][]byte{}, func(msg []byte) {
		n++
		v, err := Unmarshal(msg[40:]) // keeps the BOM: Unmarshal skips it
		if err != nil {
			t.Errorf("message %d: %v", n, err)
			return
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimPrefix(msg[40:], []byte("\xef\xbb\xbf")); !bytes.Equal(enc, want) {
			t.Errorf("message %d: re-encoding differs from pwsh's\n%s\n%s", n, want, enc)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("decoded %d messages, want 2 (SESSION_CAPABILITY, INIT_RUNSPACEPOOL)", n)
	}
}
