package psrptrace

import "github.com/psremoting/psremoting/internal/recordings"

// Recording traces every exchange of a pypsrp recording and returns its PSRP
// messages in order, reported under the recording's name. A WinRS recording
// yields no messages and no error.
func Recording(rec *recordings.Recording) ([]Message, error) {
	return traceRecording(rec.Name, rec)
}

func traceRecording(name string, rec *recordings.Recording) ([]Message, error) {
	t := NewTracer(name)
	var out []Message
	for i, ex := range rec.Messages {
		ms, err := t.Exchange(i, []byte(ex.Request), []byte(ex.Response))
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	return out, t.Close()
}
