package session

import "testing"

func TestEnvelopeSizeFor(t *testing.T) {
	for _, tc := range []struct {
		pv   string
		want int
	}{{"2.1", 153600}, {"2.0", 153600}, {"2.2", 512000}, {"2.3", 512000}, {"2.4", 512000}, {"3.0", 512000},
		{"", 153600}, {"x", 153600}, {"-1.5", 153600}} {
		if got := envelopeSizeFor(tc.pv); got != tc.want {
			t.Errorf("envelopeSizeFor(%q) = %d, want %d", tc.pv, got, tc.want)
		}
	}
}
