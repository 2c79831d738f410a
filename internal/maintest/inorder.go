package maintest

import (
	"strings"
	"testing"
)

// InOrder fails the test unless out contains each of want, in this order,
// without overlap.
func InOrder(t testing.TB, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing %q (after the earlier expected parts) in:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}
