package examplecli

import (
	"sync"
	"time"
)

// Advance moves the fake server's time on by d. It does nothing against a
// real host, in a child process, or for a Program without ManualClock.
func (e *Env) Advance(d time.Duration) {
	if e.Clock != nil {
		e.Clock.Advance(d)
	}
}

// RunClock lets the fake server's time pass quickly: step every 10 ms of
// real time, until the returned stop is called (which waits for the
// goroutine to end; calling it again does nothing). Against a real host it
// does nothing.
func (e *Env) RunClock(step time.Duration) (stop func()) {
	if e.Clock == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				e.Clock.Advance(step)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}
