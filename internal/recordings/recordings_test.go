package recordings

import "testing"

func TestLoadAll(t *testing.T) {
	recs := LoadAll(t)
	if len(recs) != 66 {
		t.Fatalf("got %d pypsrp recordings, want 66", len(recs))
	}
	exchanges, faults := 0, 0
	for _, r := range recs {
		if len(r.Messages) == 0 {
			t.Errorf("%s: no messages", r.Name)
		}
		for _, m := range r.Messages {
			exchanges++
			if m.Status() == 500 {
				faults++
			}
			if m.Request == "" {
				t.Errorf("%s: exchange with no request", r.Name)
			}
		}
	}
	if faults == 0 {
		t.Error("expected some recorded HTTP 500 faults")
	}
	t.Logf("%d recordings, %d exchanges, %d faults", len(recs), exchanges, faults)
}
