package ntlm

import (
	"encoding/binary"
	"fmt"
)

// AvID identifies an AV_PAIR (MS-NLMP 2.2.2.1).
type AvID uint16

// AV pair identifiers.
const (
	AvEOL             AvID = 0
	AvNbComputerName  AvID = 1
	AvNbDomainName    AvID = 2
	AvDNSComputerName AvID = 3
	AvDNSDomainName   AvID = 4
	AvDNSTreeName     AvID = 5
	AvFlags           AvID = 6
	AvTimestamp       AvID = 7
	AvSingleHost      AvID = 8
	AvTargetName      AvID = 9
	AvChannelBindings AvID = 10
)

// AvFlags values (the value of an AvFlags pair).
const (
	AvFlagConstrained  uint32 = 0x1
	AvFlagMIC          uint32 = 0x2
	AvFlagUntrustedSPN uint32 = 0x4
)

// AvPair is one attribute/value pair.
type AvPair struct {
	ID    AvID
	Value []byte
}

// AvPairs is an ordered AV_PAIR list without its terminating MsvAvEOL.
type AvPairs []AvPair

// ParseAvPairs decodes an AV_PAIR list. It stops at MsvAvEOL; bytes after it
// are ignored (the NTLMv2 client challenge has Z(4) after the list). A
// missing MsvAvEOL or a pair that overruns the buffer is an error.
func ParseAvPairs(b []byte) (AvPairs, error) {
	var out AvPairs
	for {
		if len(b) < 4 {
			return nil, formatErr("AV_PAIR", "list not terminated by MsvAvEOL")
		}
		id := AvID(binary.LittleEndian.Uint16(b))
		n := int(binary.LittleEndian.Uint16(b[2:]))
		b = b[4:]
		if id == AvEOL {
			return out, nil
		}
		if n > len(b) {
			return nil, formatErr("AV_PAIR", fmt.Sprintf("pair %d length %d exceeds the %d bytes left", id, n, len(b)))
		}
		out = append(out, AvPair{ID: id, Value: b[:n:n]})
		b = b[n:]
	}
}

// Marshal encodes the list followed by MsvAvEOL.
func (p AvPairs) Marshal() []byte {
	n := 4
	for _, a := range p {
		n += 4 + len(a.Value)
	}
	b := make([]byte, 0, n)
	for _, a := range p {
		b = binary.LittleEndian.AppendUint16(b, uint16(a.ID))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return append(b, 0, 0, 0, 0)
}

// Get returns the value of the first pair with the given id.
func (p AvPairs) Get(id AvID) ([]byte, bool) {
	for _, a := range p {
		if a.ID == id {
			return a.Value, true
		}
	}
	return nil, false
}

// Set replaces the value of the first pair with the id, or appends one.
func (p AvPairs) Set(id AvID, v []byte) AvPairs {
	for i := range p {
		if p[i].ID == id {
			p[i].Value = v
			return p
		}
	}
	return append(p, AvPair{ID: id, Value: v})
}

// String returns the value of a Unicode string pair.
func (p AvPairs) String(id AvID) string {
	v, _ := p.Get(id)
	return fromUTF16le(v)
}

// flags returns the MsvAvFlags value, 0 if absent or malformed.
func (p AvPairs) flags() uint32 {
	v, ok := p.Get(AvFlags)
	if !ok || len(v) != 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(v)
}
