package examplecli

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

// Common are the flags that point an example at a real host. With none of
// -computer and -uri set, the example runs against the embedded fake
// server and the other flags must not be given.
type Common struct {
	Computers     string // comma-separated computer names
	URI           string
	Port          int
	SSL           bool
	SkipVerify    bool
	Auth          string
	User          string
	Configuration string
}

// Register adds the common flags to fs.
func (c *Common) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Computers, "computer", "", "remote computer name(s), comma-separated (default: start the embedded fake server)")
	fs.StringVar(&c.URI, "uri", "", "connection URI, e.g. https://server:5986/wsman (instead of -computer)")
	fs.IntVar(&c.Port, "port", 0, "port (default 5985, or 5986 with -ssl); -computer only")
	fs.BoolVar(&c.SSL, "ssl", false, "use HTTPS; -computer only")
	fs.BoolVar(&c.SkipVerify, "insecure-skip-verify", false, "do not verify the server's TLS certificate (labs only)")
	fs.StringVar(&c.Auth, "auth", "negotiate", "authentication: negotiate, ntlm, kerberos or basic")
	fs.StringVar(&c.User, "user", "", `user name (DOMAIN\user or user@domain); the password comes from $`+PasswordEnv+` or a prompt`)
	fs.StringVar(&c.Configuration, "configuration", "", "session configuration name (default: the example's; Microsoft.PowerShell on a real host)")
}

// Real reports whether a real host was named.
func (c *Common) Real() bool { return c.Computers != "" || c.URI != "" }

// check validates the flags; it returns a flagexit.UsageError.
func (c *Common) check(visited map[string]bool) error {
	if !c.Real() {
		for _, name := range []string{"port", "ssl", "insecure-skip-verify", "auth", "user"} {
			if visited[name] {
				return flagexit.Usagef("-%s needs -computer or -uri", name)
			}
		}
		return nil
	}
	if c.Computers != "" && c.URI != "" {
		return flagexit.Usagef("give -computer or -uri, not both")
	}
	if c.URI != "" {
		u, err := url.Parse(c.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return flagexit.Usagef("-uri %q is not an http or https URL", c.URI)
		}
		if visited["port"] || visited["ssl"] {
			return flagexit.Usagef("-port and -ssl go with -computer; put them in the -uri")
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		return flagexit.Usagef("-port %d is out of range", c.Port)
	}
	if _, err := c.authentication(); err != nil {
		return err
	}
	if c.User == "" {
		return flagexit.Usagef("-%s needs -user", map[bool]string{true: "computer", false: "uri"}[c.Computers != ""])
	}
	return nil
}

func (c *Common) authentication() (session.Authentication, error) {
	switch strings.ToLower(c.Auth) {
	case "negotiate":
		return session.AuthNegotiate, nil
	case "ntlm":
		return session.AuthNTLM, nil
	case "kerberos":
		return session.AuthKerberos, nil
	case "basic":
		return session.AuthBasic, nil
	}
	return 0, flagexit.Usagef("unsupported -auth %q (use negotiate, ntlm, kerberos or basic)", c.Auth)
}

// targets returns one ConnectionOptions per computer named by the flags.
func (c *Common) targets(password string) ([]session.ConnectionOptions, error) {
	a, err := c.authentication()
	if err != nil {
		return nil, err
	}
	base := session.ConnectionOptions{
		Port:              c.Port,
		UseSSL:            c.SSL,
		ConfigurationName: c.Configuration,
		Credential:        session.Credential{Username: c.User, Password: password},
		Authentication:    a,
		SessionOption:     session.SessionOption{SkipCACheck: c.SkipVerify, SkipCNCheck: c.SkipVerify},
	}
	if c.URI != "" {
		base.Port, base.UseSSL = 0, false
		base.ConnectionURI = c.URI
		return []session.ConnectionOptions{base}, nil
	}
	var out []session.ConnectionOptions
	for _, name := range strings.Split(c.Computers, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, flagexit.Usagef("-computer %q has an empty name", c.Computers)
		}
		t := base
		t.ComputerName = name
		out = append(out, t)
	}
	return out, nil
}

// describe says where the example runs, for its first line.
func (c *Common) describe() string {
	if c.URI != "" {
		return c.URI
	}
	return fmt.Sprintf("%s (-auth %s)", c.Computers, c.Auth)
}
