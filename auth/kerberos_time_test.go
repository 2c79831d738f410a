package auth

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Authenticator times are unique in the process, in microseconds, even
// when taken concurrently.
func TestKerberosAuthenticatorTimeUnique(t *testing.T) {
	const goroutines, each = 8, 500
	times := make(chan time.Time, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				times <- krbAuthenticatorTime()
			}
		}()
	}
	wg.Wait()
	close(times)
	seen := map[time.Time]bool{}
	for tm := range times {
		assert.False(t, seen[tm], "time %v twice", tm)
		seen[tm] = true
		assert.Zero(t, tm.Nanosecond()%1000, "microseconds")
		assert.Equal(t, time.UTC, tm.Location())
	}
	assert.Len(t, seen, goroutines*each)
	assert.WithinDuration(t, time.Now(), krbAuthenticatorTime(), time.Minute, "close to the clock")
}

// Both token builders (HTTPS and message encryption) take their
// authenticator time from krbAuthenticatorTime, so concurrent handshakes of
// pooled connections never send two authenticators a replay cache would
// confuse.
func TestKerberosTokensUseUniqueTimes(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, poolUser, poolPass)
	kt := testServiceKeytab(t, k)
	a, err := NewKerberosWithPassword(poolUser, "", poolPass, krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	ctx := context.Background()
	build := map[string]func() (string, error){
		"https": func() (string, error) { return a.token(ctx, testSPN, nil) },
		"sealed": func() (string, error) {
			hdr, _, err := a.mutualToken(ctx, testSPN)
			return hdr, err
		},
	}
	for name, f := range build {
		hdr, err := f()
		require.NoError(t, err, name)
		krbAuthTime.Lock()
		last := krbAuthTime.last
		krbAuthTime.Unlock()
		auth := decodeAuthenticator(t, kt, hdr)
		assert.Equal(t, last.Unix(), auth.CTime.Unix(), name)
		assert.Equal(t, last.Nanosecond()/1000, auth.Cusec, name)
	}
}

// decodeAuthenticator verifies a "Negotiate <SPNEGO AP-REQ>" header with
// the service keytab and returns its decrypted authenticator.
func decodeAuthenticator(t *testing.T, kt *keytab.Keytab, hdr string) types.Authenticator {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hdr, "Negotiate "))
	require.NoError(t, err)
	var st spnego.SPNEGOToken
	require.NoError(t, st.Unmarshal(raw))
	var k5 spnego.KRB5Token
	require.NoError(t, k5.Unmarshal(st.NegTokenInit.MechTokenBytes))
	ok, _, err := service.VerifyAPREQ(&k5.APReq, service.NewSettings(kt, service.DecodePAC(false)))
	require.NoError(t, err)
	require.True(t, ok)
	return k5.APReq.Authenticator
}
