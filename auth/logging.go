package auth

import (
	"log/slog"
	"net/http"
)

// logFailure writes a debug line for a request an authenticating transport
// failed: the scheme, the URL without user info and the error. Errors of
// this package never contain credentials, and neither headers nor bodies
// are logged. log may be nil.
func logFailure(log *slog.Logger, req *http.Request, scheme string, err error) {
	if log == nil || err == nil {
		return
	}
	log.LogAttrs(req.Context(), slog.LevelDebug, "auth: request failed",
		slog.String("scheme", scheme),
		slog.String("url", req.URL.Redacted()),
		slog.String("error", err.Error()))
}
