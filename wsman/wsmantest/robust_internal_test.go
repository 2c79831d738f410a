package wsmantest

import (
	"fmt"
	"testing"

	"github.com/psremoting/psremoting/wsman"
)

// TestRememberBoundedByBytes: the retransmission cache forgets its oldest
// responses once their total size passes maxRememberedBytes, even with
// fewer than maxRemembered of them, and always keeps the newest.
func TestRememberBoundedByBytes(t *testing.T) {
	s := &Server{}
	req := func(i int) *request {
		return &request{hdr: &wsman.Header{OperationID: fmt.Sprintf("uuid:op-%d", i), SequenceID: "1",
			Action: wsman.ActionReceive}, rec: &RequestRecord{}}
	}
	const size = maxRememberedBytes / 4
	for i := 0; i < 10; i++ {
		s.remember(req(i), 200, &wsman.Envelope{}, size)
	}
	if got := len(s.remembered); got != 4 {
		t.Fatalf("remembered %d responses of %d bytes, want 4", got, size)
	}
	if s.rememberedBytes > maxRememberedBytes {
		t.Fatalf("remembered %d bytes, bound %d", s.rememberedBytes, maxRememberedBytes)
	}
	for i := 6; i < 10; i++ {
		if key, _ := retransmissionKey(req(i)); s.remembered[key].env == nil {
			t.Fatalf("response %d (among the newest) forgotten", i)
		}
	}
	// One response larger than the bound is still kept (alone).
	s.remember(req(10), 200, &wsman.Envelope{}, 2*maxRememberedBytes)
	if key, _ := retransmissionKey(req(10)); len(s.remembered) != 1 || s.remembered[key].env == nil {
		t.Fatalf("after an oversized response: %d remembered", len(s.remembered))
	}
	// Re-remembering a key does not count it twice.
	s.remember(req(10), 200, &wsman.Envelope{}, 100)
	if s.rememberedBytes != 100 || len(s.rememberOrder) != 1 {
		t.Fatalf("re-remembered: %d bytes, %d keys", s.rememberedBytes, len(s.rememberOrder))
	}
}
