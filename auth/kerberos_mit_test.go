package auth

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The MIT cross-check: this package's Kerberos context tokens and sealed
// wrap tokens are checked against MIT Kerberos' GSS-API acceptor
// (testdata/kerberos_mit_acceptor.c), an implementation independent of
// gokrb5 and of this package. It needs a C compiler and libkrb5-dev
// (.ci/services/kdc.sh installs them) and skips otherwise.

var (
	mitOnce sync.Once
	mitBin  string
	mitErr  error
)

// mitAcceptorBinary compiles the helper once per test binary.
func mitAcceptorBinary(t *testing.T) string {
	t.Helper()
	mitOnce.Do(func() {
		cc, err := exec.LookPath("cc")
		if err != nil {
			mitErr = fmt.Errorf("no C compiler: %v", err)
			return
		}
		if _, err := os.Stat("/usr/include/gssapi/gssapi_krb5.h"); err != nil {
			mitErr = fmt.Errorf("MIT GSS-API headers missing (libkrb5-dev): %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "krbmit-")
		if err != nil {
			mitErr = err
			return
		}
		mitBin = filepath.Join(dir, "acceptor")
		out, err := exec.Command(cc, "-O1", "-o", mitBin, "testdata/kerberos_mit_acceptor.c", "-lgssapi_krb5").CombinedOutput()
		if err != nil {
			mitErr = fmt.Errorf("compile MIT acceptor: %v: %s", err, out)
		}
	})
	if mitErr != nil {
		t.Skipf("MIT cross-check unavailable: %v", mitErr)
	}
	return mitBin
}

// mitAcceptor is a running helper process with one GSS context.
type mitAcceptor struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startMITAcceptor(t *testing.T) *mitAcceptor {
	t.Helper()
	bin := mitAcceptorBinary(t)
	k := testKDC(t)
	testServiceKeytab(t, k)
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"KRB5_CONFIG=" + k.ConfigPath,
		"KRB5_KTNAME=FILE:" + filepath.Join(k.Dir, "http.keytab"),
		"KRB5RCACHETYPE=none",
	}
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	m := &mitAcceptor{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return m
}

// call sends one command and returns the fields of an OK answer.
func (m *mitAcceptor) call(t *testing.T, args ...string) ([]string, error) {
	t.Helper()
	_, err := fmt.Fprintln(m.in, strings.Join(args, " "))
	require.NoError(t, err)
	line, err := m.out.ReadString('\n')
	require.NoError(t, err)
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "OK" {
		return nil, fmt.Errorf("MIT: %s", strings.TrimSpace(line))
	}
	return f[1:], nil
}

func hexArg(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func unhexField(t *testing.T, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// mitContext authenticates alice to the MIT acceptor with a mutual token
// and returns the client sealer.
func mitContext(t *testing.T, m *mitAcceptor, cbt []byte) (*kerberosSealer, error) {
	t.Helper()
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	cl, err := a.client()
	require.NoError(t, err)
	tkt, key, err := cl.GetServiceTicket(testSPN)
	require.NoError(t, err)
	var bnd *[16]byte
	if cbt != nil {
		h := ChannelBindingHash(cbt)
		bnd = &h
	}
	tok, pending, err := newKerberosMutualToken(cl.Credentials, tkt, key, bnd)
	require.NoError(t, err)
	f, err := m.call(t, "A", hexArg(tok), hexArg(cbt))
	if err != nil {
		return nil, err
	}
	var flags uint32
	_, err = fmt.Sscan(f[1], &flags)
	require.NoError(t, err)
	assert.NotZero(t, flags&2, "mutual")
	assert.NotZero(t, flags&16, "confidentiality")
	return pending.complete(unhexField(t, f[0]))
}

func TestKerberosSealingAgainstMIT(t *testing.T) {
	m := startMITAcceptor(t)
	s, err := mitContext(t, m, nil)
	require.NoError(t, err)
	assert.True(t, s.acceptorSubkey, "MIT's AP-REP carries an acceptor subkey")

	sizes := []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, 70000}
	for i, n := range sizes {
		msg := bytes.Repeat([]byte{byte('a' + i)}, n)
		// Client to server: the WinRM signature and data, joined, are one
		// RFC 4121 token for MIT.
		sig, sealed, err := s.Wrap(msg)
		require.NoError(t, err)
		assert.Len(t, sig, 60, "16 header + 28 rotated + 16 confounder")
		assert.Len(t, sealed, n, "data part as long as the plaintext")
		f, err := m.call(t, "U", hexArg(append(append([]byte{}, sig...), sealed...)))
		require.NoError(t, err, "size %d", n)
		assert.Equal(t, string(msg), string(unhexField(t, f[0])), "size %d", n)
		assert.Equal(t, "1", f[1], "sealed")

		// Server to client: MIT's token (RRC 0), split anywhere.
		reply := bytes.Repeat([]byte{byte('A' + i)}, n)
		f, err = m.call(t, "W", hexArg(reply))
		require.NoError(t, err)
		tok := unhexField(t, f[0])
		cut := min(len(tok), 60)
		got, err := s.Unwrap(tok[:cut], tok[cut:])
		require.NoError(t, err, "size %d", n)
		assert.Equal(t, string(reply), string(got))
	}

	// MIT refuses a replayed client token, and this side an MIT token
	// delivered twice.
	sig, sealed, err := s.Wrap([]byte("once"))
	require.NoError(t, err)
	tok := append(append([]byte{}, sig...), sealed...)
	_, err = m.call(t, "U", hexArg(tok))
	require.NoError(t, err)
	_, err = m.call(t, "U", hexArg(tok))
	require.Error(t, err)

	f, err := m.call(t, "W", hexArg([]byte("twice")))
	require.NoError(t, err)
	rtok := unhexField(t, f[0])
	_, err = s.Unwrap(rtok, nil)
	require.NoError(t, err)
	_, err = s.Unwrap(rtok, nil)
	require.ErrorIs(t, err, ErrKerberosWrapToken)
}

func TestKerberosChannelBindingAgainstMIT(t *testing.T) {
	cbt := []byte("tls-server-end-point:" + strings.Repeat("\x42", 32))
	m := startMITAcceptor(t)
	_, err := mitContext(t, m, cbt)
	require.NoError(t, err, "MIT accepts the binding hash in the authenticator checksum")

	// The token carries bindings of cbt, the acceptor expects others.
	m3 := startMITAcceptor(t)
	k := testKDC(t)
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	cl, err := a.client()
	require.NoError(t, err)
	tkt, key, err := cl.GetServiceTicket(testSPN)
	require.NoError(t, err)
	h := ChannelBindingHash(cbt)
	tok, _, err := newKerberosMutualToken(cl.Credentials, tkt, key, &h)
	require.NoError(t, err)
	_, err = m3.call(t, "A", hexArg(tok), hexArg([]byte("tls-server-end-point:different")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "major=")
}
