package auth

import (
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"
)

// krbAuthTime is the last authenticator time this process used.
var krbAuthTime struct {
	sync.Mutex
	last time.Time
}

// krbAuthenticatorTime returns the current time in microseconds (UTC),
// made strictly later than every time it returned before. A replay cache
// as RFC 4120 3.2.3 describes it (gokrb5's service has one, MIT's did
// before 1.18) treats two authenticators of one client for one server with
// the same ctime and cusec as a replay, and pooled
// connections build authenticators concurrently, so two of them could
// otherwise share a microsecond and the second be refused with
// KRB_AP_ERR_REPEAT.
func krbAuthenticatorTime() time.Time {
	now := time.Now().UTC().Truncate(time.Microsecond)
	krbAuthTime.Lock()
	defer krbAuthTime.Unlock()
	if !now.After(krbAuthTime.last) {
		now = krbAuthTime.last.Add(time.Microsecond)
	}
	krbAuthTime.last = now
	return now
}

// krbSetAuthenticatorTime gives a a unique time (see krbAuthenticatorTime).
func krbSetAuthenticatorTime(a *types.Authenticator) {
	t := krbAuthenticatorTime()
	a.CTime = t
	a.Cusec = t.Nanosecond() / int(time.Microsecond)
}
