package recordings

import (
	"os/exec"
	"strings"
	"testing"
)

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

// The package links no test framework into the programs that use it
// (examples/psrpdump reads recordings outside any test).
func TestNoTestingDependency(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: no go command to list dependencies: %v", err)
	}
	for _, pkg := range []string{".", "../../examples/psrpdump"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "testing" {
				t.Errorf("%s depends on package testing", pkg)
			}
		}
	}
}
