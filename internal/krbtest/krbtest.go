package krbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// ErrUnavailable is wrapped by Start's error when the MIT Kerberos binaries
// are not installed or the KDC cannot start. Tests skip on it.
var ErrUnavailable = errors.New("krbtest: MIT Kerberos KDC unavailable")

// DefaultRealm is the realm Start creates.
const DefaultRealm = "PSREMOTING.TEST"

// startTimeout bounds how long Start waits for the KDC to listen.
const startTimeout = 15 * time.Second

// binaries are the programs Start needs, looked up in PATH and in the
// sbin directories Debian installs them to.
var binaries = []string{"kdb5_util", "kadmin.local", "krb5kdc", "kinit"}

// KDC is a running test KDC. Its methods are safe for concurrent use.
type KDC struct {
	// Realm is the realm name, DefaultRealm.
	Realm string
	// Dir is the temporary directory holding the database, the
	// configuration files, logs, keytabs and caches.
	Dir string
	// Port is the loopback TCP and UDP port the KDC listens on.
	Port int
	// ConfigPath is the krb5.conf clients use (KRB5_CONFIG).
	ConfigPath string

	profilePath string
	bins        map[string]string
	cmd         *exec.Cmd
	done        chan struct{}
	mu          sync.Mutex // serialises kadmin.local (one database lock)
	stopOnce    sync.Once
}

// findBinaries resolves every needed program or returns ErrUnavailable.
func findBinaries() (map[string]string, error) {
	found := make(map[string]string, len(binaries))
	for _, name := range binaries {
		if p, err := exec.LookPath(name); err == nil {
			found[name] = p
			continue
		}
		ok := false
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				found[name] = p
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s not found (install krb5-kdc krb5-admin-server krb5-user, see .ci/services/kdc.sh)", ErrUnavailable, name)
		}
	}
	return found, nil
}

// freePort returns a loopback port that is free for both TCP and UDP at the
// time of the call.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port for TCP and UDP")
}

// Start creates a realm in a new temporary directory under parent ("" means
// os.TempDir) and starts the KDC. The caller must call Stop.
func Start(parent string) (*KDC, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "krbtest-")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	k := &KDC{Realm: DefaultRealm, Dir: dir, bins: bins}
	if err := k.start(); err != nil {
		k.Stop()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return k, nil
}

func (k *KDC) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	k.Port = port
	k.ConfigPath = filepath.Join(k.Dir, "krb5.conf")
	k.profilePath = filepath.Join(k.Dir, "kdc.conf")
	if err := os.WriteFile(k.ConfigPath, []byte(k.krb5Conf()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(k.profilePath, []byte(k.kdcConf()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(k.Dir, "kadm5.acl"), []byte("*/admin@"+k.Realm+" *\n"), 0o600); err != nil {
		return err
	}
	// The master password only protects the throw-away database.
	if _, err := k.run(context.Background(), nil, "kdb5_util", "create", "-s", "-r", k.Realm, "-P", "krbtest-master"); err != nil {
		return err
	}
	cmd := exec.Command(k.bins["krb5kdc"], "-n", "-r", k.Realm)
	cmd.Env = k.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start krb5kdc: %v", err)
	}
	k.cmd = cmd
	k.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(k.done) }()

	deadline := time.Now().Add(startTimeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(k.Port))
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-k.done:
			return fmt.Errorf("krb5kdc exited: %s%s", out.String(), k.kdcLog())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("krb5kdc did not listen on %s within %v%s", addr, startTimeout, k.kdcLog())
		}
	}
}

func (k *KDC) kdcLog() string {
	b, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
	if len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "; kdc.log: " + string(b)
}

func (k *KDC) krb5Conf() string {
	return fmt.Sprintf(`[libdefaults]
 default_realm = %[1]s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
 ticket_lifetime = 10h
 renew_lifetime = 7d
 forwardable = true
 noaddresses = true
 udp_preference_limit = 1
 default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
 default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
 permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
 %[1]s = {
  kdc = 127.0.0.1:%[2]d
  admin_server = 127.0.0.1:%[2]d
 }

[domain_realm]
 localhost = %[1]s
 127.0.0.1 = %[1]s
`, k.Realm, k.Port)
}

func (k *KDC) kdcConf() string {
	return fmt.Sprintf(`[kdcdefaults]
 kdc_listen = 127.0.0.1:%[2]d
 kdc_tcp_listen = 127.0.0.1:%[2]d
 kdc_ports = %[2]d
 kdc_tcp_ports = %[2]d

[realms]
 %[1]s = {
  database_name = %[3]s/principal
  key_stash_file = %[3]s/stash
  acl_file = %[3]s/kadm5.acl
  max_life = 10h
  max_renewable_life = 7d
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  default_principal_flags = +preauth
 }

[logging]
 kdc = FILE:%[3]s/kdc.log
 admin_server = FILE:%[3]s/kadmin.log
 default = FILE:%[3]s/krb5.log
`, k.Realm, k.Port, k.Dir)
}

// env is the environment of every Kerberos command: only this realm's files.
func (k *KDC) env() []string {
	env := []string{
		"KRB5_CONFIG=" + k.ConfigPath,
		"KRB5_KDC_PROFILE=" + k.profilePath,
		"KRB5CCNAME=FILE:" + filepath.Join(k.Dir, "default.ccache"),
		"KRB5_KTNAME=FILE:" + filepath.Join(k.Dir, "default.keytab"),
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs one of the realm's programs with stdin and returns its output.
// Errors include the output, which never holds a password: passwords are
// only ever written to stdin.
func (k *KDC) run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bins[name], args...)
	cmd.Env = k.env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Kadmin runs one kadmin.local query against the realm, for example
// `modprinc -maxlife "3 seconds" alice`. Do not put passwords in it (they
// would appear in a returned error); use AddPrincipal for those.
func (k *KDC) Kadmin(query string) error { return k.kadmin(query) }

// kadmin runs one kadmin.local query.
func (k *KDC) kadmin(query string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, err := k.run(context.Background(), nil, "kadmin.local", "-r", k.Realm, "-q", query)
	return err
}

// Principal returns name qualified with the realm ("name@REALM").
func (k *KDC) Principal(name string) string { return name + "@" + k.Realm }

// AddPrincipal creates a principal with a password. The password goes in
// the query string of kadmin.local's command line, which is acceptable for a
// throw-away realm; it is never part of a returned error.
func (k *KDC) AddPrincipal(name, password string) error {
	if strings.ContainsAny(password, "\"\n") || strings.ContainsAny(name, "\" \n") {
		return errors.New("krbtest: name or password contains a quote, space or newline")
	}
	if err := k.kadmin(fmt.Sprintf("addprinc -pw \"%s\" %s", password, name)); err != nil {
		return errors.New("krbtest: addprinc " + name + " failed: " + redact(err.Error(), password))
	}
	return nil
}

// AddRandomKeyPrincipal creates a principal with random keys, as for a
// service such as HTTP/host.
func (k *KDC) AddRandomKeyPrincipal(name string) error {
	return k.kadmin("addprinc -randkey " + name)
}

// WriteKeytab exports the keys of the principals into a keytab file at
// path (without changing the keys) and returns the parsed keytab.
func (k *KDC) WriteKeytab(path string, principals ...string) (*keytab.Keytab, error) {
	for _, p := range principals {
		if err := k.kadmin(fmt.Sprintf("ktadd -k %s -norandkey %s", path, p)); err != nil {
			return nil, err
		}
	}
	return keytab.Load(path)
}

// Kinit obtains a TGT for principal with password into the credential cache
// file at ccachePath, as a user running kinit would. Extra arguments go to
// kinit before the principal (for example "-l", "3s" for a short lifetime).
func (k *KDC) Kinit(principal, password, ccachePath string, args ...string) error {
	argv := append([]string{"-c", "FILE:" + ccachePath}, args...)
	argv = append(argv, principal)
	_, err := k.run(context.Background(), []byte(password+"\n"), "kinit", argv...)
	if err != nil {
		return errors.New("krbtest: kinit " + principal + " failed: " + redact(err.Error(), password))
	}
	return nil
}

// Config parses the realm's krb5.conf with gokrb5.
func (k *KDC) Config() (*config.Config, error) {
	return config.Load(k.ConfigPath)
}

// Stop stops the KDC and removes the directory. It is safe to call more
// than once.
func (k *KDC) Stop() {
	k.stopOnce.Do(func() {
		if k.cmd != nil && k.cmd.Process != nil {
			_ = k.cmd.Process.Kill()
			<-k.done
		}
		_ = os.RemoveAll(k.Dir)
	})
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "<redacted>")
}
