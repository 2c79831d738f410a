package wsman

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Default WinRM ports and application name.
const (
	DefaultHTTPPort        = 5985
	DefaultHTTPSPort       = 5986
	DefaultApplicationName = "wsman"
)

// EndpointError reports an endpoint that cannot be turned into a WinRM URL.
type EndpointError struct {
	Input string // the endpoint as given (user information is redacted in Error)
	Msg   string // why it was refused
}

// Error implements the error interface.
func (e *EndpointError) Error() string {
	return fmt.Sprintf("wsman: invalid endpoint %q: %s", truncate(redactUserinfo(e.Input), 200), e.Msg)
}

// redactUserinfo hides any user:password@ part of an endpoint string.
func redactUserinfo(s string) string {
	start := strings.Index(s, "://")
	if start < 0 {
		start = 0
	} else {
		start += 3
	}
	rest := s[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		return s[:start] + "xxxxx" + rest[at:]
	}
	return s
}

// ParseConnectionURI turns a PowerShell-style ConnectionUri into the URL to
// POST to. Accepted forms: "http(s)://host[:port][/app]", "host",
// "host:port". A missing scheme means http (https when the port is 5986); a
// missing port is 5985 for http and 5986 for https; a missing path is
// /wsman. User information in the URI is refused (credentials belong in the
// Authenticator).
func ParseConnectionURI(s string) (*url.URL, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return nil, &EndpointError{Input: s, Msg: "empty"}
	}
	raw := in
	if !strings.Contains(raw, "://") {
		scheme := "http"
		if _, p, err := net.SplitHostPort(raw); err == nil && p == strconv.Itoa(DefaultHTTPSPort) {
			scheme = "https"
		}
		raw = scheme + "://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &EndpointError{Input: s, Msg: "not a URL"} // url errors quote the input: not wrapped
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &EndpointError{Input: s, Msg: "scheme must be http or https"}
	}
	if u.User != nil {
		return nil, &EndpointError{Input: s, Msg: "credentials in the URI are not allowed; use an Authenticator"}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &EndpointError{Input: s, Msg: "no host"}
	}
	if !strings.HasPrefix(u.Host, "[") && strings.Count(u.Host, ":") > 1 {
		return nil, &EndpointError{Input: s, Msg: "an IPv6 address must be written in brackets"}
	}
	if _, err := netip.ParseAddr(host); strings.Contains(host, ":") && err != nil {
		return nil, &EndpointError{Input: s, Msg: "invalid IPv6 address"}
	}
	port := u.Port()
	if port == "" {
		if u.Scheme == "https" {
			port = strconv.Itoa(DefaultHTTPSPort)
		} else {
			port = strconv.Itoa(DefaultHTTPPort)
		}
	} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, &EndpointError{Input: s, Msg: "invalid port"}
	}
	u.Host = net.JoinHostPort(host, port)
	if u.Path == "" || u.Path == "/" {
		u.Path = "/" + DefaultApplicationName
	}
	u.Fragment = ""
	return u, nil
}

// BuildURL returns the WinRM URL for PowerShell's ComputerName, Port, UseSSL
// and ApplicationName parameters. port 0 means the default for the scheme;
// applicationName "" means "wsman".
func BuildURL(computerName string, port int, useSSL bool, applicationName string) (string, error) {
	host := strings.TrimSpace(computerName)
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", &EndpointError{Input: computerName, Msg: "invalid computer name"}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	scheme := "http"
	if useSSL {
		scheme = "https"
	}
	if port == 0 {
		port = DefaultHTTPPort
		if useSSL {
			port = DefaultHTTPSPort
		}
	}
	if port < 0 || port > 65535 {
		return "", &EndpointError{Input: computerName, Msg: "invalid port " + strconv.Itoa(port)}
	}
	app := strings.Trim(applicationName, "/")
	if app == "" {
		app = DefaultApplicationName
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + app}
	return u.String(), nil
}
