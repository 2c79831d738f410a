package wsman

import (
	"context"
	"errors"
)

// Envelope sizes Windows uses by default (MaxEnvelopeSizekb 150 on WinRM
// 2.0, 500 on WinRM 3.0 and later).
const (
	MaxEnvelopeSizeV2 = 150 * 1024
	MaxEnvelopeSizeV3 = 500 * 1024
)

// DiscoverMaxEnvelopeSize reads MaxEnvelopeSizekb from the server's WinRM
// configuration. When the configuration cannot be read (typically an
// access-denied fault for non-administrators, or any other fault) it
// returns fallback (DefaultMaxEnvelopeSize when fallback is not positive)
// and fromServer=false; the caller picks the fallback (package session
// derives it from the PSRP protocol version). Transport errors and context
// cancellation are returned.
func (c *Client) DiscoverMaxEnvelopeSize(ctx context.Context, fallback int) (size int, fromServer bool, err error) {
	if fallback <= 0 {
		fallback = DefaultMaxEnvelopeSize
	}
	cfg, err := c.GetConfig(ctx)
	if err == nil && cfg.MaxEnvelopeSizeKB > 0 {
		return cfg.MaxEnvelopeSizeKB * 1024, true, nil
	}
	var f *Fault
	var x *XMLError
	var u *UnexpectedResponseError
	if err == nil || errors.As(err, &f) || errors.As(err, &x) || errors.As(err, &u) {
		return fallback, false, nil
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
