package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrCrossHostRedirect means a redirect pointed to another origin (scheme,
// host or port) than the endpoint the credentials were given for, and the
// caller did not opt in to following it with credentials
// (WrapOptions.AllowCrossHostRedirect, wsman.Config.AllowCrossHostRedirection).
// wsman.ErrCrossHostRedirect is the same value.
var ErrCrossHostRedirect = errors.New("auth: refusing a redirect to another host (scheme, host or port): credentials go only to the endpoint")

// SameOrigin reports whether a and b have the same scheme, host and port
// (a port left out counts as the scheme's default: 80 for http, 443 for
// https). Credentials given for one are only sent to the other when
// SameOrigin holds, unless the caller opted in to cross-host redirects.
func SameOrigin(a, b *url.URL) bool {
	if !strings.EqualFold(a.Scheme, b.Scheme) {
		return false
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && originPort(a) == originPort(b)
}

func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// checkRedirect refuses a request that net/http creates to follow a
// redirect (req.Response is set) to another origin than the first request
// of the chain, unless opts allow it. The body is closed when refused.
func checkRedirect(req *http.Request, opts WrapOptions) error {
	if req.Response == nil || opts.AllowCrossHostRedirect {
		return nil
	}
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	if SameOrigin(first.URL, req.URL) {
		return nil
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return fmt.Errorf("%w (%s to %s; set AllowCrossHostRedirect to allow it)", ErrCrossHostRedirect,
		originString(first.URL), originString(req.URL))
}

// originString is scheme://host[:port] of u, without user info or path.
func originString(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}
