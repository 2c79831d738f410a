package psrptrace

import "github.com/psremoting/psremoting/internal/recordings"

// Recording traces every exchange of a pypsrp recording and returns its PSRP
// messages in order. A WinRS recording yields no messages and no error.
func Recording(rec *recordings.Recording) ([]Message, error) {
	t := NewTracer(rec.Name)
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
