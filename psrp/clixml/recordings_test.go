package clixml

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

func recordingsDir() (string, error) { return recordings.Dir() }

// recordedMessage is the CLIXML body of one PSRP message found in the
// decoded recordings.
type recordedMessage struct {
	where      string
	data       []byte
	fromServer bool // Destination=Client: written by Windows
}

// recordedMessages returns the CLIXML of every non-empty PSRP message in
// ../shared/recordings/decoded/*.txt (the line after each "=> MESSAGE").
func recordedMessages(tb testing.TB) []recordedMessage {
	tb.Helper()
	dir := recordings.DirOrSkip(tb)
	files, err := filepath.Glob(filepath.Join(dir, "decoded", "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Skipf("skipping: no decoded recordings in %s", dir)
	}
	var out []recordedMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		line, next, server := 0, false, false
		for sc.Scan() {
			line++
			t := sc.Text()
			if next {
				next = false
				if s := strings.TrimSpace(t); s != "" && !strings.HasSuffix(s, "more chars]") {
					out = append(out, recordedMessage{where: filepath.Base(f) + ":" + strconv.Itoa(line), data: []byte(s), fromServer: server})
				}
				continue
			}
			next = strings.Contains(t, "=> MESSAGE")
			server = strings.Contains(t, "Destination=Client")
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// recordedStreams returns the CLIXML sample files (streams and documents).
func recordedStreams(tb testing.TB) map[string][]byte {
	tb.Helper()
	dir := recordings.DirOrSkip(tb)
	out := map[string][]byte{}
	for _, pat := range []string{"ironposh/psrp/*.xml", "pypsrp/data/*.xml"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out[filepath.Base(f)] = b
		}
	}
	return out
}

func TestRecordedMessagesRoundTrip(t *testing.T) {
	msgs := recordedMessages(t)
	if len(msgs) < 600 {
		t.Fatalf("found only %d CLIXML messages in the decoded recordings", len(msgs))
	}
	server := 0
	for _, m := range msgs {
		v, err := Unmarshal(m.data)
		if err != nil {
			t.Errorf("%s: %v", m.where, err)
			continue
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Errorf("%s: Marshal: %v", m.where, err)
			continue
		}
		v2, err := Unmarshal(enc)
		if err != nil {
			t.Errorf("%s: re-Unmarshal: %v\n%s", m.where, err, enc)
			continue
		}
		if !Equal(v, v2) {
			t.Errorf("%s: round trip changed the value\n in: %s\nout: %s", m.where, m.data, enc)
		}
		// Windows' own encoding is canonical: ours reproduces it.
		if m.fromServer {
			server++
			if !bytes.Equal(enc, m.data) {
				i := 0
				for i < len(enc) && i < len(m.data) && enc[i] == m.data[i] {
					i++
				}
				lo := max(0, i-60)
				t.Errorf("%s: encoding differs from Windows' at byte %d\n in: …%s\nout: …%s", m.where, i, m.data[lo:min(len(m.data), i+60)], enc[lo:min(len(enc), i+60)])
			}
		}
	}
	t.Logf("%d messages decoded and round-tripped, %d written by Windows re-encoded byte for byte", len(msgs), server)
}

func TestRecordedStreams(t *testing.T) {
	files := recordedStreams(t)
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(b))
			n := 0
			for {
				v, stream, err := d.DecodeWithStream()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("value %d: %v", n, err)
				}
				n++
				enc, err := Marshal(v)
				if err != nil {
					t.Fatalf("value %d: Marshal: %v", n, err)
				}
				v2, err := Unmarshal(enc)
				if err != nil || !Equal(v, v2) {
					t.Fatalf("value %d (stream %q): round trip failed: %v\n%s", n, stream, err, enc)
				}
			}
			if n == 0 {
				t.Fatal("no values decoded")
			}
			t.Logf("%d values", n)
		})
	}
}

// The CLIXML examples of the MS-PSRP specification decode (comments and
// indentation included) and round-trip.
func TestSpecExamples(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	files, _ := filepath.Glob(filepath.Join(dir, "spec", "MS-PSRP_2.2.2.*.xml"))
	if len(files) == 0 {
		t.Skip("skipping: no spec examples")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("<examples>"), nil), []byte("</examples>"), nil)
		d := NewDecoder(bytes.NewReader(b))
		for {
			v, err := d.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			n++
			enc, err := Marshal(v)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			back, err := Unmarshal(enc)
			if err != nil || !Equal(v, back) {
				t.Fatalf("%s: round trip failed: %v", filepath.Base(f), err)
			}
		}
	}
	if n < 7 {
		t.Errorf("decoded only %d example values", n)
	}
	// Example 2 of CONNECT_RUNSPACEPOOL: a property without a name.
	v, err := Unmarshal([]byte("<Obj RefId=\"1\">\n  <MS>\n    <S></S>\n  </MS>\n</Obj>"))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*Object).Extended; len(got) != 1 || got[0].Name != "" || got[0].Value != String("") {
		t.Errorf("got %#v", got)
	}
}
