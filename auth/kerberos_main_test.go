package auth

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/psremoting/psremoting/internal/krbtest"
)

// The package's tests share one throw-away MIT KDC, started on first use by
// testKDC and stopped here after the tests ran (with the MIT cross-check
// helper binary, when one was compiled). Tests that do not need them never
// start them.
var (
	kdcOnce sync.Once
	kdc     *krbtest.KDC
	kdcErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kdc != nil {
		kdc.Stop()
	}
	if mitBin != "" {
		os.RemoveAll(filepath.Dir(mitBin))
	}
	os.Exit(code)
}

// testKDC returns the shared KDC, or skips the test with the reason the
// KDC is not available (MIT Kerberos not installed: see .ci/services/kdc.sh).
func testKDC(t testing.TB) *krbtest.KDC {
	t.Helper()
	kdcOnce.Do(func() { kdc, kdcErr = krbtest.Start("") })
	if kdcErr != nil {
		if errors.Is(kdcErr, krbtest.ErrUnavailable) {
			t.Skipf("Kerberos tests need MIT Kerberos: %v", kdcErr)
		}
		t.Fatalf("start KDC: %v", kdcErr)
	}
	return kdc
}
