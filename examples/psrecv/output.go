package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
)

// record is one result as psrecv prints it with -json (one JSON object per
// line) and as it keeps results received with -keep.
type record struct {
	// Kind is output, error, warning, verbose, debug, information,
	// progress, state or hostcall.
	Kind       string `json:"kind"`
	Computer   string `json:"computer,omitempty"`
	Session    string `json:"session,omitempty"`
	InstanceID string `json:"instanceId,omitempty"`
	CommandID  string `json:"commandId,omitempty"`
	// Text is how the table view shows the record.
	Text string `json:"text"`
	// Value is an output object or information data in clixml's JSON form.
	Value json.RawMessage `json:"value,omitempty"`
	// Error holds an error record's fields (kind error, or a failed
	// command's reason with kind state).
	Error *errorJSON `json:"error,omitempty"`
	// Progress holds a progress record's fields.
	Progress *progressJSON `json:"progress,omitempty"`
	// State is a command's final state (kind state).
	State string `json:"state,omitempty"`
	// OutputMayBeDropped: the command ran disconnected in Drop mode.
	OutputMayBeDropped bool `json:"outputMayBeDropped,omitempty"`
}

type errorJSON struct {
	Message               string `json:"message"`
	FullyQualifiedErrorID string `json:"fullyQualifiedErrorId,omitempty"`
	CategoryInfo          string `json:"categoryInfo,omitempty"`
	Exception             string `json:"exception,omitempty"`
}

type progressJSON struct {
	Activity          string `json:"activity"`
	ActivityID        int32  `json:"activityId"`
	StatusDescription string `json:"statusDescription,omitempty"`
	CurrentOperation  string `json:"currentOperation,omitempty"`
	PercentComplete   int32  `json:"percentComplete"`
	SecondsRemaining  int32  `json:"secondsRemaining"`
	Completed         bool   `json:"completed,omitempty"`
}

// displayBudget bounds the tree a displayed value may expand to (see
// clixml.Expansion); beyond it the JSON form (linear in size) is shown.
const displayBudget = 64 << 10

// display renders a value as PowerShell's default view does for simple
// values: its ToString when the server sent one.
func display(v clixml.Value) string {
	if v == nil {
		return ""
	}
	if o, ok := v.(*clixml.Object); ok && o.HasToString {
		return o.ToString
	}
	if g, err := (clixml.ConvertOptions{MaxExpansion: displayBudget}).ToGo(v); err == nil {
		if g == nil {
			return ""
		}
		return fmt.Sprint(g)
	}
	js, err := clixml.JSON(v)
	if err != nil {
		return fmt.Sprintf("(cannot display: %v)", err)
	}
	return string(js)
}

func valueJSON(v clixml.Value) json.RawMessage {
	if v == nil {
		return nil
	}
	js, err := clixml.JSON(v)
	if err != nil {
		js, _ = json.Marshal(fmt.Sprintf("(cannot convert: %v)", err))
	}
	return js
}

func errorFields(er *psrp.ErrorRecord) *errorJSON {
	if er == nil {
		return nil
	}
	e := &errorJSON{Message: er.Message, FullyQualifiedErrorID: er.FullyQualifiedErrorID, CategoryInfo: categoryInfo(er)}
	if er.Exception != nil {
		e.Exception = er.Exception.TypeName()
	}
	return e
}

// categoryInfo is the CategoryInfo line of an error record, e.g.
// "NotSpecified: (:) [Write-Error], WriteErrorException".
func categoryInfo(er *psrp.ErrorRecord) string {
	if er.CategoryMessage != "" {
		return er.CategoryMessage
	}
	return fmt.Sprintf("%s: (%s:%s) [%s], %s", er.Category, er.TargetName, er.TargetType, er.Activity, er.Reason)
}

// toRecord converts a session result.
func toRecord(r session.Result) record {
	rec := record{Computer: r.ComputerName, Session: r.SessionName}
	if r.SessionInstanceID != [16]byte{} {
		rec.InstanceID = strings.ToUpper(r.SessionInstanceID.String())
	}
	if r.CommandID != [16]byte{} {
		rec.CommandID = strings.ToUpper(r.CommandID.String())
	}
	switch r.Kind {
	case session.KindOutput:
		rec.Kind, rec.Text, rec.Value = "output", display(r.Output), valueJSON(r.Output)
	case session.KindError:
		rec.Kind, rec.Error = "error", errorFields(r.Error)
		if r.Error != nil {
			rec.Text = r.Error.Message
		}
	case session.KindWarning, session.KindVerbose, session.KindDebug:
		rec.Kind = map[session.ResultKind]string{session.KindWarning: "warning", session.KindVerbose: "verbose", session.KindDebug: "debug"}[r.Kind]
		if r.Record != nil {
			rec.Text = r.Record.Message
		}
	case session.KindInformation:
		rec.Kind = "information"
		if r.Information != nil {
			rec.Text, rec.Value = display(r.Information.MessageData), valueJSON(r.Information.MessageData)
		}
	case session.KindProgress:
		rec.Kind = "progress"
		if p := r.Progress; p != nil {
			rec.Text = p.Activity + ": " + p.StatusDescription
			rec.Progress = &progressJSON{Activity: p.Activity, ActivityID: p.ActivityID, StatusDescription: p.StatusDescription,
				CurrentOperation: p.CurrentOperation, PercentComplete: p.PercentComplete, SecondsRemaining: p.SecondsRemaining,
				Completed: p.RecordType == psrp.ProgressCompleted}
		}
	case session.KindState:
		rec.Kind, rec.State, rec.Text = "state", r.State.String(), r.State.String()
		rec.OutputMayBeDropped = r.OutputMayBeDropped
		rec.Error = errorFields(r.StateReason)
	case session.KindHostCall:
		rec.Kind = "hostcall"
		if r.HostCall != nil {
			rec.Text = fmt.Sprint(r.HostCall.MethodID)
			if n := len(r.HostCall.Params); n > 0 && strings.HasPrefix(rec.Text, "Write") {
				rec.Text += ": " + display(r.HostCall.Params[n-1])
			}
		}
	default:
		rec.Kind = "unknown"
	}
	return rec
}

// printer writes records: output objects on stdout (one line each, or
// JSON lines with -json), the other streams on stderr in PowerShell's style,
// progress through a progress view.
type printer struct {
	stdout, stderr io.Writer
	json           bool
	progress       progressView
	// failed is set when a command failed or wrote an error record.
	failed bool
}

func newPrinter(e *env, jsonOut bool) *printer {
	return &printer{stdout: e.stdout, stderr: e.stderr, json: jsonOut, progress: newProgressView(e)}
}

// print writes one record.
func (p *printer) print(rec record) {
	if rec.Kind == "error" || (rec.Kind == "state" && (rec.State == psrp.PSInvocationFailed.String())) {
		p.failed = true
	}
	if rec.Kind == "progress" {
		if rec.Progress != nil {
			p.progress.update(rec)
		}
		return
	}
	if p.json {
		b, err := json.Marshal(rec)
		if err != nil {
			b, _ = json.Marshal(record{Kind: "unknown", Text: err.Error()})
		}
		fmt.Fprintf(p.stdout, "%s\n", b)
		return
	}
	switch rec.Kind {
	case "output":
		p.progress.clear()
		fmt.Fprintln(p.stdout, rec.Text)
	case "error":
		p.progress.clear()
		writeErrorRecord(p.stderr, rec.Error, rec.Computer)
	case "warning", "verbose", "debug":
		p.progress.clear()
		fmt.Fprintf(p.stderr, "%s: %s\n", strings.ToUpper(rec.Kind), rec.Text)
	case "information":
		p.progress.clear()
		fmt.Fprintln(p.stderr, rec.Text)
	case "state":
		switch {
		case rec.State == psrp.PSInvocationFailed.String() && rec.Error != nil:
			p.progress.clear()
			writeErrorRecord(p.stderr, rec.Error, rec.Computer)
		case rec.State == psrp.PSInvocationFailed.String():
			fmt.Fprintf(p.stderr, "The command failed on %s.\n", rec.Computer)
		case rec.State == psrp.PSInvocationStopped.String():
			fmt.Fprintf(p.stderr, "The command was stopped on %s.\n", rec.Computer)
		}
		if rec.OutputMayBeDropped {
			fmt.Fprintf(p.stderr, "WARNING: the session on %s buffers output in Drop mode: output produced while it was disconnected may have been discarded.\n", rec.Computer)
		}
	}
}

// close ends the progress view.
func (p *printer) close() { p.progress.close() }

// writeErrorRecord writes an error record as Windows PowerShell shows a
// remote error:
//
//	message
//	    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException
//	    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException
//	    + PSComputerName        : server
func writeErrorRecord(w io.Writer, e *errorJSON, computer string) {
	if e == nil {
		return
	}
	fmt.Fprintln(w, e.Message)
	if e.CategoryInfo != "" {
		fmt.Fprintf(w, "    + CategoryInfo          : %s\n", e.CategoryInfo)
	}
	if e.FullyQualifiedErrorID != "" {
		fmt.Fprintf(w, "    + FullyQualifiedErrorId : %s\n", e.FullyQualifiedErrorID)
	}
	if computer != "" {
		fmt.Fprintf(w, "    + PSComputerName        : %s\n", computer)
	}
	fmt.Fprintln(w)
}

// table writes rows under headers as Format-Table does: a blank line, the
// headers, a line of dashes as long as each header, the rows, a blank
// line; column widths come from the data (text/tabwriter).
func table(w io.Writer, headers []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(w)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	dashes := make([]string, len(headers))
	for i, h := range headers {
		dashes[i] = strings.Repeat("-", len(h))
	}
	fmt.Fprintln(tw, strings.Join(dashes, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printList writes items as Format-Table does, one row each under headers
// (nothing when there are none), or with jsonOut as JSON lines of their
// toJSON form.
func printList[T, J any](w io.Writer, jsonOut bool, items []T, toJSON func(T) J, headers []string, row func(T) []string) error {
	if jsonOut {
		out := make([]J, len(items))
		for i, it := range items {
			out[i] = toJSON(it)
		}
		return jsonLines(w, out)
	}
	if len(items) == 0 {
		return nil
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	table(w, headers, rows)
	return nil
}

// jsonLines writes each value as one JSON line.
func jsonLines[T any](w io.Writer, vs []T) error {
	enc := json.NewEncoder(w)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}
