package psrptrace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

// seedRecordings adds a few real envelopes (requests and responses) of the
// recordings to a fuzz corpus, when the recordings are present.
func seedRecordings(f *testing.F, add func(b []byte)) {
	dir, err := recordings.Dir()
	if err != nil {
		return
	}
	for _, name := range []string{"test_psrp_disconnected_commands", "test_psrp_small_msg_size", "test_winrs_standard"} {
		r, err := recordings.Load(filepath.Join(dir, "pypsrp", "responses", name+".yml"))
		if err != nil {
			continue
		}
		for i, ex := range r.Messages {
			if i > 12 {
				break
			}
			add([]byte(ex.Request))
			add([]byte(ex.Response))
		}
	}
}

// FuzzScanEnvelope: any input either scans or gives an error wrapping
// ErrEnvelope; never a panic.
func FuzzScanEnvelope(f *testing.F) {
	seedRecordings(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(testEnvHead + `<s:Body><rsp:Shell ShellId="x"><creationXml xmlns="http://schemas.microsoft.com/powershell">AAAA</creationXml></rsp:Shell></s:Body></s:Envelope>`))
	f.Add([]byte(`<a`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ScanEnvelope(b)
		if err != nil {
			return
		}
		for _, p := range env.Payloads {
			_, _ = p.Bytes()
		}
	})
}

// FuzzTrace runs whole inputs (an envelope, base64 payloads or a YAML
// recording) through detection, reassembly and decoding: errors are fine,
// panics and hangs are not.
func FuzzTrace(f *testing.F) {
	seedRecordings(f, func(b []byte) { f.Add(b) })
	if dir, err := recordings.Dir(); err == nil {
		if b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("messages:\n- request: '<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>'\n  response: ''\n"))
	f.Add([]byte("AAAAAAAAAAEAAAAAAAAAAAMAAAAA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, _ := Trace("fuzz", b, FormatAuto)
		for _, m := range ms {
			if m.Message == nil || m.Object == nil {
				t.Fatalf("message without a decoded header or object: %+v", m)
			}
		}
	})
}
