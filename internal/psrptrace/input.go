package psrptrace

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/psremoting/psremoting/internal/recordings"
)

// Format names an input format of Trace.
type Format string

// Input formats.
const (
	// FormatAuto detects the format (see DetectFormat).
	FormatAuto Format = "auto"
	// FormatYAML is a pypsrp recording (responses/*.yml).
	FormatYAML Format = "yaml"
	// FormatEnvelope is one SOAP envelope (a request or a response).
	FormatEnvelope Format = "xml"
	// FormatBase64 is base64 PSRP payload text: one payload, possibly
	// wrapped over lines, or one payload per line.
	FormatBase64 Format = "base64"
)

// ParseFormat accepts "auto", "yaml", "xml" (or "envelope") and "base64".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "auto":
		return FormatAuto, nil
	case "yaml", "yml":
		return FormatYAML, nil
	case "xml", "envelope", "soap":
		return FormatEnvelope, nil
	case "base64", "b64":
		return FormatBase64, nil
	}
	return "", fmt.Errorf("psrptrace: unknown format %q (want auto, yaml, xml or base64)", s)
}

var yamlMessagesKey = regexp.MustCompile(`(?m)^messages:`)

// DetectFormat guesses the format of b: XML when the first non-space
// character is '<', a pypsrp recording when a line starts with "messages:",
// base64 otherwise.
func DetectFormat(b []byte) Format {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '<':
		return FormatEnvelope
	case yamlMessagesKey.Match(b):
		return FormatYAML
	}
	return FormatBase64
}

// Trace reads one input in format f (FormatAuto detects it) and returns its
// PSRP messages, reported under name.
func Trace(name string, b []byte, f Format) ([]Message, error) {
	if f == FormatAuto || f == "" {
		f = DetectFormat(b)
	}
	switch f {
	case FormatYAML:
		rec, err := recordings.Parse(name, b)
		if err != nil {
			return nil, &Error{File: name, Err: err}
		}
		return traceRecording(name, rec)
	case FormatEnvelope:
		t := NewTracer(name)
		ms, err := t.Envelope(0, 0, bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
		if err != nil {
			return ms, err
		}
		return ms, t.Close()
	case FormatBase64:
		payload, err := decodeBase64Text(b)
		if err != nil {
			return nil, &Error{File: name, Err: err}
		}
		t := NewTracer(name)
		ms, err := t.Payload(0, 0, payload)
		if err != nil {
			return ms, err
		}
		return ms, t.Close()
	}
	return nil, fmt.Errorf("psrptrace: unknown format %q", f)
}

// decodeBase64Text decodes base64 text as one blob with whitespace removed,
// or else line by line (one payload per line, concatenated: fragments are
// self-delimiting, so a concatenation of payloads reads like one).
func decodeBase64Text(b []byte) ([]byte, error) {
	whole := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, b)
	out, err := base64.StdEncoding.DecodeString(string(whole))
	if err == nil {
		return out, nil
	}
	out = out[:0]
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		p, lerr := base64.StdEncoding.DecodeString(string(line))
		if lerr != nil {
			return nil, fmt.Errorf("psrptrace: not base64 (as one blob: %v; line %d: %v)", err, i+1, lerr)
		}
		out = append(out, p...)
	}
	return out, nil
}
