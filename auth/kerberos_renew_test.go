package auth

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ticket lifetimes in these tests are a few seconds; the tests run in
// parallel with each other so the waits overlap.
const shortLife = 3 * time.Second

// waitPast sleeps until t has passed (plus a little for clock granularity).
func waitPast(t time.Time) {
	time.Sleep(time.Until(t) + 200*time.Millisecond)
}

func TestKerberosPasswordRelogin(t *testing.T) {
	t.Parallel()
	k := testKDC(t)
	testPrincipal(t, k, "frank", "Frank-Pass-1")
	require.NoError(t, k.Kadmin(`modprinc -maxlife "3 seconds" -maxrenewlife "3 seconds" frank`))
	mark := kdcLogMark(t, k)
	srv := newKRBServer(t, testServiceKeytab(t, k), true, func(s *krbServer) { s.perRequest = true })
	a, err := NewKerberosWithPassword("frank", "", "Frank-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv.Server, a, WrapOptions{})

	_, err = post(context.Background(), c, srv.URL, "1")
	require.NoError(t, err)
	// The tickets were issued before now, so they end before now+shortLife.
	issued := time.Now()
	assert.Equal(t, 1, countKDCLog(t, k, mark, "AS_REQ", "ISSUE", "frank@"))

	waitPast(issued.Add(shortLife))
	// TGT and service ticket have expired: the request logs in again with
	// the password and gets a new service ticket, without caller action.
	_, err = post(context.Background(), c, srv.URL, "2")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, countKDCLog(t, k, mark, "ISSUE", "frank@", "krbtgt"), 2, "a new or renewed TGT")
	assert.Equal(t, 2, countKDCLog(t, k, mark, "TGS_REQ", "ISSUE", "frank@", testSPN), "a new service ticket")
	assert.Equal(t, []string{"1", "2"}, srv.bodies)
}

func TestKerberosCCacheReload(t *testing.T) {
	t.Parallel()
	k := testKDC(t)
	testPrincipal(t, k, "gina", "Gina-Pass-1")
	cc := filepath.Join(t.TempDir(), "ccache")
	require.NoError(t, k.Kinit("gina", "Gina-Pass-1", cc, "-l", "3s", "-r", "3s"))
	issued := time.Now()
	srv := newKRBServer(t, testServiceKeytab(t, k), true, func(s *krbServer) { s.perRequest = true })
	a, err := NewKerberosFromCCache(cc, krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv.Server, a, WrapOptions{})
	_, err = post(context.Background(), c, srv.URL, "1")
	require.NoError(t, err)

	waitPast(issued.Add(shortLife))
	// Expired and not refreshed: a typed error that says to run kinit.
	_, err = post(context.Background(), c, srv.URL, "2")
	require.ErrorIs(t, err, ErrKerberosExpired)
	assert.Contains(t, err.Error(), "kinit")

	// The user runs kinit again: the same authenticator picks it up.
	require.NoError(t, k.Kinit("gina", "Gina-Pass-1", cc))
	_, err = post(context.Background(), c, srv.URL, "3")
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "3"}, srv.bodies)
}

// renewalGoroutines counts gokrb5's TGT renewal goroutines.
func renewalGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	count := 0
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		if strings.Contains(g, "enableAutoSessionRenewal") {
			count++
		}
	}
	return count
}

// Close stops the renewal goroutine gokrb5 starts at login.
func TestKerberosCloseStopsRenewal(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "ivan", "Ivan-Pass-1")
	a, err := NewKerberosWithPassword("ivan", "", "Ivan-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	require.NoError(t, a.Login(context.Background()))
	running := renewalGoroutines()
	require.GreaterOrEqual(t, running, 1)
	require.NoError(t, a.Close())
	// The goroutine exits when it sees the cancellation; poll for it.
	for i := 0; i < 200 && renewalGoroutines() >= running; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Less(t, renewalGoroutines(), running)
}
