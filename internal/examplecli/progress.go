package examplecli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/psremoting/psremoting/psrp"
	"golang.org/x/term"
)

// Progress draws progress records as a bar:
//
//	Counting [##########----------]  50% 5 of 10
//
// On a terminal the bar is redrawn in place; otherwise (a pipe, a file, a
// test) each change is a new line, so the output stays readable.
type Progress struct {
	w    io.Writer
	tty  bool
	last string
	open bool
}

// NewProgress returns a Progress drawing on w.
func NewProgress(w io.Writer) *Progress {
	f, ok := w.(*os.File)
	return &Progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

const barWidth = 20

// Show draws rec.
func (p *Progress) Show(rec *psrp.ProgressRecord) {
	if rec.RecordType == psrp.ProgressCompleted {
		p.Done()
		return
	}
	pct := int(rec.PercentComplete)
	var bar string
	if pct >= 0 {
		pct = min(pct, 100)
		n := pct * barWidth / 100
		bar = fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", n), strings.Repeat("-", barWidth-n), pct)
	} else {
		bar = "[" + strings.Repeat("?", barWidth) + "]"
	}
	line := fmt.Sprintf("%s %s %s", rec.Activity, bar, rec.StatusDescription)
	if line == p.last {
		return
	}
	p.last = line
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// Above runs print, which writes a line of output, with the bar moved out
// of its way: on a terminal the bar is erased, then drawn again below.
func (p *Progress) Above(print func()) {
	if !p.open {
		print()
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	print()
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.last)
}

// Done ends the bar (on a terminal, moves to the next line).
func (p *Progress) Done() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
	p.last = ""
}
