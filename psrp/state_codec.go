package psrp

import (
	"fmt"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// encodeData returns the CLIXML bytes of a message's data (nil for a message
// without data).
func encodeData(d MessageData) ([]byte, error) {
	v := d.ToCLIXML()
	if v == nil {
		return nil, nil
	}
	return encodeValue(v)
}

// encodeValue returns the CLIXML bytes of one value.
func encodeValue(v clixml.Value) ([]byte, error) {
	b, err := clixml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("psrp: encoding message data: %w", err)
	}
	return b, nil
}

// decodeMessageData unmarshals m's CLIXML and decodes it with dec, naming the
// message type in errors.
func decodeMessageData[T any](m *Message, dec func(clixml.Value) (*T, error)) (*T, error) {
	return decodeMessageDataWith(clixml.DecoderOptions{}, m, dec)
}

// decodeMessageDataWith is decodeMessageData with the decoder options o.
func decodeMessageDataWith[T any](o clixml.DecoderOptions, m *Message, dec func(clixml.Value) (*T, error)) (*T, error) {
	v, err := o.Unmarshal(m.Data)
	if err != nil {
		return nil, fmt.Errorf("psrp: %s data: %w", m.Type, err)
	}
	x, err := dec(v)
	if err != nil {
		return nil, fmt.Errorf("psrp: %s data: %w", m.Type, err)
	}
	return x, nil
}
