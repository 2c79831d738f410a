// Package recordings loads the real WinRM/PSRP traffic kept beside the
// repository in ../shared/recordings (pypsrp's MIT-licensed recordings of
// Windows servers, and a few other captures). Tests use it and skip where the
// folder is absent; the data itself is never copied into this repository.
package recordings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvDir names an environment variable that, when set, overrides where the
// recordings folder is looked for.
const EnvDir = "PSREMOTING_RECORDINGS"

// ErrNotFound is returned by Dir when no recordings folder can be found.
var ErrNotFound = errors.New("recordings: ../shared/recordings not found (set " + EnvDir + " to its path)")

// Dir returns the recordings folder: $PSREMOTING_RECORDINGS if set, otherwise
// shared/recordings beside the directory that holds this module's go.mod,
// found by walking up from the working directory.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
		return "", fmt.Errorf("recordings: %s=%q is not a directory", EnvDir, d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(d), "shared", "recordings")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand, nil
			}
			return "", ErrNotFound
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ErrNotFound
		}
		d = parent
	}
}

// TB is the part of testing.TB the loaders use (a *testing.T or
// *testing.B is one). The package does not import testing, so a program
// that reads recordings (examples/psrpdump) does not link the test
// framework.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatal(args ...any)
}

// DirOrSkip returns the recordings folder, or skips the test with a clear
// message when it is absent.
func DirOrSkip(tb TB) string {
	tb.Helper()
	d, err := Dir()
	if err != nil {
		tb.Skipf("skipping: real-traffic recordings are not available: %v", err)
	}
	return d
}

// TransportError is the optional transport_error key of a pypsrp exchange:
// the response is returned with this HTTP status.
type TransportError struct {
	// Protocol is the transport the error belongs to ("http").
	Protocol string `yaml:"protocol"`
	// Code is the HTTP status code.
	Code int `yaml:"code"`
}

// Override is an edit pypsrp applies to the expected request before it
// compares (the overrides key).
type Override struct {
	// Path locates the element to edit, such as
	// "s:Body/rsp:Receive/rsp:DesiredStream".
	Path string `yaml:"path"`
	// Text replaces the element's text, if set.
	Text string `yaml:"text"`
	// Attributes replace attributes of the element, by name.
	Attributes map[string]string `yaml:"attributes"`
}

// Exchange is one HTTP round trip of a pypsrp recording.
type Exchange struct {
	// Request is the SOAP envelope the client sent.
	Request string `yaml:"request"`
	// Response is the SOAP envelope the server answered.
	Response string `yaml:"response"`
	// TransportError, when set, makes the response fail with its HTTP
	// status (pypsrp raises a WinRMTransportError).
	TransportError *TransportError `yaml:"transport_error"`
	// AuthError makes the exchange fail authentication (pypsrp raises an
	// AuthenticationError).
	AuthError bool `yaml:"auth_error"`
	// HTTPError makes the exchange fail at the connection (pypsrp raises
	// a ConnectionError).
	HTTPError bool `yaml:"http_error"`
	// Timeout is how long the recorded server waits before answering, in
	// seconds (0: at once).
	Timeout float64 `yaml:"timeout"`
	// Overrides are edits applied to Request before comparing it.
	Overrides []Override `yaml:"overrides"`
}

// Status returns the HTTP status the recorded server answered with: the
// transport_error code, or 200.
func (e Exchange) Status() int {
	if e.TransportError != nil && e.TransportError.Code != 0 {
		return e.TransportError.Code
	}
	return 200
}

// Recording is one pypsrp YAML file.
type Recording struct {
	Name string // file name without .yml
	// Path is the file the recording was loaded from.
	Path string
	// Messages are the HTTP round trips, in order.
	Messages []Exchange `yaml:"messages"`
}

// Load parses one pypsrp YAML recording.
func Load(path string) (*Recording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses the bytes of a pypsrp YAML recording read from path.
func Parse(path string, b []byte) (*Recording, error) {
	var r Recording
	if err := yaml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("recordings: %s: %w", path, err)
	}
	r.Path = path
	r.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &r, nil
}

// PypsrpFiles lists the 66 pypsrp recordings (responses/*.yml without the
// template), sorted by name.
func PypsrpFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "pypsrp", "responses", "*.yml"))
	if err != nil {
		return nil, err
	}
	out := m[:0]
	for _, f := range m {
		if filepath.Base(f) != "_template.yml" {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// LoadAll loads every pypsrp recording, or skips the test where the
// recordings are absent.
func LoadAll(tb TB) []*Recording {
	tb.Helper()
	dir := DirOrSkip(tb)
	files, err := PypsrpFiles(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Skipf("skipping: no pypsrp recordings under %s", dir)
	}
	out := make([]*Recording, 0, len(files))
	for _, f := range files {
		r, err := Load(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// LoadNamed loads pypsrp/responses/<name>.yml, or skips the test where the
// recordings are absent.
func LoadNamed(tb TB, name string) *Recording {
	tb.Helper()
	dir := DirOrSkip(tb)
	r, err := Load(filepath.Join(dir, "pypsrp", "responses", name+".yml"))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
