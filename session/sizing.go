package session

import (
	"strconv"
	"strings"

	"github.com/psremoting/psremoting/wsman"
)

// envelopeSizeFor returns the envelope size to assume for a server that
// reported the given PSRP protocol version in SESSION_CAPABILITY: 150 KiB
// (WinRM 2.0's MaxEnvelopeSizekb) for 2.1 and older, 500 KiB (WinRM 3.0 and
// later) otherwise, as PowerShell's WSManTransportManager
// (AdjustForProtocolVariations) and pypsrp do. An empty or unparsable
// version gives 150 KiB, which every server accepts.
// This is PSRP knowledge, so it lives here rather than in package wsman.
func envelopeSizeFor(protocolVersion string) int {
	major, minor, ok := parseVersion(protocolVersion)
	if !ok || major < 2 || (major == 2 && minor <= 1) {
		return wsman.MaxEnvelopeSizeV2
	}
	return wsman.MaxEnvelopeSizeV3
}

func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return 0, 0, false
	}
	return a, b, true
}
