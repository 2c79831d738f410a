package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/psremoting/psremoting/internal/psrptrace"
)

// maxInputSize bounds one input file (recordings are a few MiB at most).
const maxInputSize = 256 << 20

// record is the JSON form of one message.
type record struct {
	File        string              `json:"file"`
	Exchange    int                 `json:"exchange"`
	Direction   psrptrace.Direction `json:"direction"`
	Action      string              `json:"action"`
	Element     string              `json:"element"`
	Stream      string              `json:"stream,omitempty"`
	CommandID   string              `json:"commandId,omitempty"`
	ShellID     string              `json:"shellId,omitempty"`
	ObjectID    uint64              `json:"objectId"`
	Fragments   int                 `json:"fragments"`
	Type        string              `json:"type"`
	Destination string              `json:"destination"`
	RPID        string              `json:"rpid"`
	PID         string              `json:"pid"`
	Value       json.RawMessage     `json:"value"`
}

// run is the program without the process around it: it parses args, reads
// the inputs (stdin when none) and writes to stdout and stderr, returning the
// exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("psrpdump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	formatFlag := fs.String("format", "auto", "input format: auto, yaml (pypsrp recording), xml (one SOAP envelope) or base64 (PSRP payloads)")
	summary := fs.Bool("summary", false, "print the number of messages per type and the total instead of the messages")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: psrpdump [-format auto|yaml|xml|base64] [-summary] [file|dir ...]")
		fmt.Fprintln(stderr, "Prints one JSON object per PSRP message found in recorded WinRM traffic (stdin when no file is named).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	format, err := psrptrace.ParseFormat(*formatFlag)
	if err != nil {
		fmt.Fprintln(stderr, "psrpdump:", err)
		return 2
	}
	inputs, err := expand(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "psrpdump:", err)
		return 1
	}

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	counts := map[string]int{}
	total, status := 0, 0
	for _, in := range inputs {
		b, err := readInput(in, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "psrpdump:", err)
			status = 1
			continue
		}
		ms, err := psrptrace.Trace(in, b, format)
		for _, m := range ms {
			total++
			counts[m.Message.Type.String()]++
			if *summary {
				continue
			}
			rec, rerr := toRecord(m)
			if rerr == nil {
				rerr = enc.Encode(rec)
			}
			if rerr != nil {
				fmt.Fprintf(stderr, "psrpdump: %s: exchange %d: %s: %v\n", in, m.Exchange, m.Message.Type, rerr)
				status = 1
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "psrpdump:", err)
			status = 1
		}
	}
	if *summary {
		names := make([]string, 0, len(counts))
		for n := range counts {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if counts[names[i]] != counts[names[j]] {
				return counts[names[i]] > counts[names[j]]
			}
			return names[i] < names[j]
		})
		for _, n := range names {
			fmt.Fprintf(w, "%-28s %6d\n", n, counts[n])
		}
		fmt.Fprintf(w, "%-28s %6d\n", "total", total)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "psrpdump:", err)
		return 1
	}
	return status
}

func toRecord(m psrptrace.Message) (*record, error) {
	v, err := valueJSON(m)
	if err != nil {
		return nil, err
	}
	return &record{
		File: m.File, Exchange: m.Exchange, Direction: m.Direction, Action: m.Action,
		Element: m.Element, Stream: m.Stream, CommandID: m.CommandID, ShellID: m.ShellID,
		ObjectID: m.ObjectID, Fragments: m.Fragments,
		Type: m.Message.Type.String(), Destination: m.Message.Destination.String(),
		RPID: m.Message.RunspacePoolID.String(), PID: m.Message.PipelineID.String(),
		Value: v,
	}, nil
}

// expand turns the arguments into a list of files ("-" for stdin).
func expand(args []string) ([]string, error) {
	if len(args) == 0 {
		return []string{"-"}, nil
	}
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		for _, e := range ents { // ReadDir sorts by name
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
				continue
			}
			switch strings.ToLower(filepath.Ext(n)) {
			case ".yml", ".yaml", ".xml", ".b64":
				out = append(out, filepath.Join(a, n))
			}
		}
	}
	return out, nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxInputSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxInputSize)
	}
	return b, nil
}
