package wsman

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Envelope sizes Windows uses by default (MaxEnvelopeSizekb 150 on WinRM
// 2.0, 500 on WinRM 3.0 and later).
const (
	MaxEnvelopeSizeV2 = 150 * 1024
	MaxEnvelopeSizeV3 = 500 * 1024
)

// DefaultMaxEnvelopeSizeFor returns the envelope size to assume for a
// server that reported the given PSRP protocol version (for example from
// SESSION_CAPABILITY): 150 KiB for 2.1 and older, 500 KiB otherwise. An
// empty or unparsable version gives 150 KiB, which every server accepts.
func DefaultMaxEnvelopeSizeFor(protocolVersion string) int {
	major, minor, ok := parseVersion(protocolVersion)
	if !ok || major < 2 || (major == 2 && minor <= 1) {
		return MaxEnvelopeSizeV2
	}
	return MaxEnvelopeSizeV3
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

// DiscoverMaxEnvelopeSize reads MaxEnvelopeSizekb from the server's WinRM
// configuration. When the configuration cannot be read — typically an
// access-denied fault for non-administrators, or any other fault — it falls
// back to DefaultMaxEnvelopeSizeFor(protocolVersion) and reports
// fromServer=false. Transport errors and context cancellation are returned.
func (c *Client) DiscoverMaxEnvelopeSize(ctx context.Context, protocolVersion string) (size int, fromServer bool, err error) {
	cfg, err := c.GetConfig(ctx)
	if err == nil && cfg.MaxEnvelopeSizeKB > 0 {
		return cfg.MaxEnvelopeSizeKB * 1024, true, nil
	}
	var f *Fault
	var x *XMLError
	var u *UnexpectedResponseError
	if err == nil || errors.As(err, &f) || errors.As(err, &x) || errors.As(err, &u) {
		return DefaultMaxEnvelopeSizeFor(protocolVersion), false, nil
	}
	return 0, false, err
}

// payloadMargin is the slack kept for header variations (longer ids,
// extra headers), as pypsrp does.
const payloadMargin = 256

// MaxPayloadSize returns the largest number of PSRP bytes that fit, base64
// encoded, in one Send envelope of this client at its current
// MaxEnvelopeSize: (MaxEnvelopeSize − (Send skeleton + 256)) / 4 × 3.
func (c *Client) MaxPayloadSize() int {
	return maxPayload(c.MaxEnvelopeSize(), c.sendSkeletonSize())
}

// MaxResponseBytes returns the response body limit in effect
// (Config.MaxResponseBytes, or DefaultMaxResponseBytes). Pass it to the
// layers above (psrp.ClientPoolConfig.ResponseLimit) so that their memory
// limits follow it.
func (c *Client) MaxResponseBytes() int64 { return c.cfg.MaxResponseBytes }

// MaxPayloadSizeFor is MaxPayloadSize for another envelope size.
func (c *Client) MaxPayloadSizeFor(maxEnvelope int) int {
	return maxPayload(maxEnvelope, c.sendSkeletonSize())
}

func maxPayload(maxEnvelope, skeleton int) int {
	n := (maxEnvelope - (skeleton + payloadMargin)) / 4 * 3
	if n < 0 {
		return 0
	}
	return n
}

func (c *Client) sendSkeletonSize() int {
	const guid = "00000000-0000-0000-0000-000000000000"
	env := c.envelope(context.Background(), &Request{
		Action: ActionSend, ResourceURI: PowerShellResourceURI(""),
		Selectors: []Selector{{Name: SelectorShellID, Value: guid}},
		Body:      []*Element{SendElement(Stream{Name: StreamStdin, CommandID: guid})},
	})
	return len(env.Marshal())
}
