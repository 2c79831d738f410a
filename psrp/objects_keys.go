package psrp

import (
	"encoding/base64"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// PublicKey is the data of PUBLIC_KEY (MS-PSRP 2.2.2.3): the client's RSA
// public key as a base64 CAPI PUBLICKEYBLOB (see EncodePublicKeyBlob).
type PublicKey struct {
	Key []byte         // the PUBLICKEYBLOB, sent base64-encoded
	Raw *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessagePublicKey.
func (*PublicKey) MessageType() MessageType { return MessagePublicKey }

// ToCLIXML encodes the message.
func (x *PublicKey) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodePublicKey) {
		return x.Raw
	}
	return keepUnknown(msObject(prop("PublicKey", clixml.String(base64.StdEncoding.EncodeToString(x.Key)))), x.Raw)
}

// DecodePublicKey decodes PUBLIC_KEY data.
func DecodePublicKey(v clixml.Value) (*PublicKey, error) {
	r, err := newReader("PUBLIC_KEY", v)
	if err != nil {
		return nil, err
	}
	x := &PublicKey{Key: r.base64("PublicKey"), Raw: r.o}
	return x, r.err
}

// EncryptedSessionKey is the data of ENCRYPTED_SESSION_KEY (MS-PSRP
// 2.2.2.4): the session key encrypted with the client's public key, as a
// base64 CAPI SIMPLEBLOB.
type EncryptedSessionKey struct {
	Key []byte         // the SIMPLEBLOB, sent base64-encoded
	Raw *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageEncryptedSessionKey.
func (*EncryptedSessionKey) MessageType() MessageType { return MessageEncryptedSessionKey }

// ToCLIXML encodes the message.
func (x *EncryptedSessionKey) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeEncryptedSessionKey) {
		return x.Raw
	}
	return keepUnknown(msObject(prop("EncryptedSessionKey", clixml.String(base64.StdEncoding.EncodeToString(x.Key)))), x.Raw)
}

// DecodeEncryptedSessionKey decodes ENCRYPTED_SESSION_KEY data.
func DecodeEncryptedSessionKey(v clixml.Value) (*EncryptedSessionKey, error) {
	r, err := newReader("ENCRYPTED_SESSION_KEY", v)
	if err != nil {
		return nil, err
	}
	x := &EncryptedSessionKey{Key: r.base64("EncryptedSessionKey"), Raw: r.o}
	return x, r.err
}

// PublicKeyRequest is the data of PUBLIC_KEY_REQUEST (MS-PSRP 2.2.2.5): an
// empty string. Raw keeps whatever was received.
type PublicKeyRequest struct {
	Raw clixml.Value // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessagePublicKeyRequest.
func (*PublicKeyRequest) MessageType() MessageType { return MessagePublicKeyRequest }

// ToCLIXML returns the empty string (or the received value).
func (x *PublicKeyRequest) ToCLIXML() clixml.Value {
	if x.Raw != nil {
		return x.Raw
	}
	return clixml.String("")
}

// DecodePublicKeyRequest accepts any data (the specification sends an empty
// string).
func DecodePublicKeyRequest(v clixml.Value) (*PublicKeyRequest, error) {
	return &PublicKeyRequest{Raw: v}, nil
}

// base64 reads a string property holding base64 data.
func (r *reader) base64(p string) []byte {
	s := r.str(p, true)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		r.fail(p, "not base64: %v", err)
		return nil
	}
	return b
}
