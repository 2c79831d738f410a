package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// progressView shows progress records: a bar on a terminal, lines
// otherwise.
type progressView interface {
	update(rec record)
	// clear removes a bar from the screen before other text is written.
	clear()
	close()
}

func newProgressView(e *env) progressView {
	if e.stderrTTY {
		return &barView{w: e.stderr}
	}
	return &lineView{w: e.stderr}
}

// lineView writes one line per progress change:
//
//	PROGRESS: Activity: Status (40%)
type lineView struct {
	w    io.Writer
	last map[int32]string
}

func (v *lineView) update(rec record) {
	p := rec.Progress
	line := "PROGRESS: " + p.Activity
	if p.StatusDescription != "" {
		line += ": " + p.StatusDescription
	}
	switch {
	case p.Completed:
		line += " (completed)"
	case p.PercentComplete >= 0:
		line += fmt.Sprintf(" (%d%%)", p.PercentComplete)
	}
	if p.CurrentOperation != "" {
		line += " - " + p.CurrentOperation
	}
	if v.last == nil {
		v.last = map[int32]string{}
	}
	if v.last[p.ActivityID] == line {
		return
	}
	v.last[p.ActivityID] = line
	fmt.Fprintln(v.w, line)
}

func (v *lineView) clear() {}
func (v *lineView) close() {}

// barView draws the latest activity as a progress bar
// (github.com/schollz/progressbar/v3) on the terminal.
type barView struct {
	w        io.Writer
	bar      *progressbar.ProgressBar
	activity int32
}

func (v *barView) update(rec record) {
	p := rec.Progress
	if p.Completed {
		if v.bar != nil && v.activity == p.ActivityID {
			_ = v.bar.Finish()
			v.clear()
		}
		return
	}
	desc := p.Activity
	if p.StatusDescription != "" {
		desc += ": " + p.StatusDescription
	}
	if v.bar == nil || v.activity != p.ActivityID {
		v.clear()
		v.activity = p.ActivityID
		max := 100
		if p.PercentComplete < 0 {
			max = -1 // a spinner: the percentage is unknown
		}
		v.bar = progressbar.NewOptions(max,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(0),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	} else {
		v.bar.Describe(desc)
	}
	if p.PercentComplete >= 0 {
		_ = v.bar.Set(int(p.PercentComplete))
	} else {
		_ = v.bar.Add(1)
	}
}

func (v *barView) clear() {
	if v.bar != nil {
		_ = v.bar.Clear()
	}
}

func (v *barView) close() {
	if v.bar != nil {
		_ = v.bar.Exit()
		v.bar = nil
	}
}
