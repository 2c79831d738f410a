package wsman

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

// seedRecordings adds every recorded request and response (when the
// recordings are present) and the ironPosh samples to a fuzz corpus.
func seedRecordings(f *testing.F) {
	dir, err := recordings.Dir()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, rec := range allRecordings(f) {
		for _, m := range rec.Messages {
			for _, s := range []string{m.Request, m.Response} {
				// One sample per action shape keeps the corpus small.
				env, err := ParseEnvelope([]byte(s))
				key := s
				if err == nil {
					key = env.Header.Action + "|" + itoa(len(env.Body))
					if env.IsFault() {
						key += FaultFromEnvelope(env).Subcode
					}
				}
				if !seen[key] && len(s) < 64<<10 {
					seen[key] = true
					f.Add([]byte(s))
				}
			}
		}
	}
	more, _ := filepath.Glob(filepath.Join(dir, "ironposh", "winrm", "*.xml"))
	mal, _ := filepath.Glob(filepath.Join(dir, "ironposh", "winrm", "malformed", "*.xml"))
	for _, p := range append(more, mal...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// decodeAll runs every body decoder over a parsed envelope, as a client or
// a server would.
func decodeAll(env *Envelope) {
	_, _ = env.DecodeRequestBody()
	b := env.BodyElement()
	_, _ = ParseCreateResponse(env.Body)
	_, _ = ParseCommandResponse(b)
	if r, err := ParseReceiveResponse(b); err == nil {
		_ = r.StreamData("stdout", "")
	}
	_, _ = ParseConnectResponse(b)
	if r, err := ParseEnumerationResult(b); err == nil {
		for _, it := range r.Items {
			_, _ = ParseShell(it)
			_, _ = ParseCommandInfo(it)
		}
	}
	_, _ = ParseConfig(b)
	if f, err := ParseFault(b); err == nil {
		_ = f.Error()
		_ = f.Message()
		_ = f.Is(ErrShellNotFound)
	}
	_ = env.Marshal()
}

func FuzzParseEnvelope(f *testing.F) {
	seedRecordings(f)
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body/></s:Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelopeLimits(data, Limits{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		decodeAll(env)
		// What we write, we can read back (escaping and namespace
		// declarations may lengthen tags beyond the input's limits).
		if _, err := ParseEnvelopeLimits(env.Marshal(), Limits{MaxBytes: 1 << 30, MaxAttributes: 1 << 20, MaxTagBytes: 1 << 30, MaxElements: 1 << 20}); err != nil {
			t.Fatalf("re-parse of marshalled envelope failed: %v", err)
		}
	})
}

func FuzzParseFault(f *testing.F) {
	f.Add([]byte(NewFaultResponse(&Envelope{Header: Header{MessageID: "uuid:1"}}, ShellNotFoundFault("m")).Marshal()))
	f.Add([]byte(NewFaultResponse(&Envelope{Header: Header{MessageID: "uuid:1"}}, TimedOutFault("m")).Marshal()))
	f.Add([]byte(`<s:Fault xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"><s:Detail><f:WSManFault Code="-1"><f:Message><f:ProviderFault><f:WSManFault Code="5"/></f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := ParseElement(data, Limits{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		if env, err := EnvelopeFromElement(el); err == nil {
			el = env.BodyElement()
		}
		fl, err := ParseFault(el)
		if err != nil {
			return
		}
		_ = fl.Error()
		_ = fl.WSManCode()
		// Building the fault again and parsing it keeps the code.
		back, err := ParseFault(fl.Element())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if back.WSManCode() != fl.WSManCode() {
			t.Fatalf("code %d became %d", fl.WSManCode(), back.WSManCode())
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT7200.000S", "P0DT0H0M9S", "PT20S", "-PT1S", "P1DT", "PT-1S", "P0Y0M0DT0H0M0.5S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil {
			t.Fatalf("FormatDuration(%v) = %q does not parse: %v", d, FormatDuration(d), err)
		}
		if diff := back - d.Truncate(1e6); diff > 1e6 || diff < -1e6 {
			t.Fatalf("%q: %v -> %v", s, d, back)
		}
	})
}

func FuzzParseConnectionURI(f *testing.F) {
	for _, s := range []string{"server", "server:5986", "https://server", "http://[::1]/wsman",
		"HTTPS://Server:443/custom?PSVersion=7.4", "http://user:secret@server/wsman", "ftp://x", "http://:1", "[::1]:5986", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseConnectionURI(s)
		if err != nil {
			// (Redaction of user:password@ in the error is checked by
			// TestParseConnectionURI.)
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("scheme %q", u.Scheme)
		}
		if u.Port() == "" || u.Hostname() == "" || u.User != nil || u.Path == "" {
			t.Fatalf("incomplete URL %q from %q", u, s)
		}
		// The result is a fixed point.
		again, err := ParseConnectionURI(u.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse again: %v", s, u, err)
		}
		if again.String() != u.String() {
			t.Fatalf("%q -> %q -> %q", s, u, again)
		}
	})
}
