package session

import (
	"context"
	"testing"
	"time"

	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A long-lived session forgets finished commands: its memory does not grow
// with the number of commands it ran.
func TestFinishedCommandsAreForgotten(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, NewOptions{ConnectionOptions: ConnectionOptions{ConnectionURI: srv.URL}, Table: &Table{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	for i := 0; i < 20; i++ {
		st, err := s.Invoke(ctx, Pipeline{Script: `"x"`})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Collect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	n := len(s.cmds)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("the session still holds %d finished commands", n)
	}
}
