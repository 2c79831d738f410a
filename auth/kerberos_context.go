package auth

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// kerberosMutualGSSFlags are the GSS flags of a context that will seal
// messages: mutual authentication (the AP-REP carries the acceptor's
// subkey and sequence number), sequencing, integrity and confidentiality.
const kerberosMutualGSSFlags = uint32(gssapi.ContextFlagMutual | gssapi.ContextFlagSequence |
	gssapi.ContextFlagInteg | gssapi.ContextFlagConf)

// krb5TokenIDAPRep is the RFC 4121 token id of an AP-REP inner token.
var krb5TokenIDAPRep = []byte{0x02, 0x00}

// kerberosPending is a client context waiting for the server's AP-REP.
type kerberosPending struct {
	sessionKey types.EncryptionKey // the service ticket's session key
	subkey     types.EncryptionKey // the authenticator's subkey
	seq        uint64              // the authenticator's sequence number
	ctime      time.Time
	cusec      int
}

// krbGSSToken wraps a Kerberos message in the RFC 4121/1964 GSS framing:
// [APPLICATION 0] { krb5 mechanism OID, token id, message }.
func krbGSSToken(tokID, msg []byte) ([]byte, error) {
	oid, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, fmt.Errorf("marshal mechanism OID: %w", err)
	}
	inner := make([]byte, 0, len(oid)+len(tokID)+len(msg))
	inner = append(inner, oid...)
	inner = append(inner, tokID...)
	inner = append(inner, msg...)
	return asn1tools.AddASNAppTag(inner, 0), nil
}

// newKerberosMutualToken builds a SPNEGO NegTokenInit whose AP-REQ asks for
// mutual authentication and carries a subkey and a sequence number, for a
// context that will seal messages. It returns the token and the state that
// completeKerberosContext needs.
func newKerberosMutualToken(creds *credentials.Credentials, tkt messages.Ticket, key types.EncryptionKey, bindings *[16]byte) ([]byte, *kerberosPending, error) {
	a, err := types.NewAuthenticator(creds.Domain(), creds.CName())
	if err != nil {
		return nil, nil, fmt.Errorf("build authenticator: %w", err)
	}
	krbSetAuthenticatorTime(&a)
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, nil, fmt.Errorf("session key: %w", err)
	}
	if err := a.GenerateSeqNumberAndSubKey(key.KeyType, et.GetKeyByteSize()); err != nil {
		return nil, nil, fmt.Errorf("generate subkey: %w", err)
	}
	a.Cksum = types.Checksum{
		CksumType: chksumtype.GSSAPI,
		Checksum:  kerberosAuthenticatorChecksum(bindings, kerberosMutualGSSFlags),
	}
	apReq, err := messages.NewAPReq(tkt, key, a)
	if err != nil {
		return nil, nil, fmt.Errorf("build AP-REQ: %w", err)
	}
	types.SetFlag(&apReq.APOptions, flags.APOptionMutualRequired)
	tok, err := marshalKerberosSPNEGO(apReq)
	if err != nil {
		return nil, nil, err
	}
	return tok, &kerberosPending{
		sessionKey: key,
		subkey:     a.SubKey,
		seq:        uint64(a.SeqNumber) & 0xffffffff,
		ctime:      a.CTime,
		cusec:      a.Cusec,
	}, nil
}

// marshalKerberosSPNEGO puts an AP-REQ in a GSS token inside a SPNEGO
// NegTokenInit offering only the Kerberos mechanism.
func marshalKerberosSPNEGO(apReq messages.APReq) ([]byte, error) {
	apReqBytes, err := apReq.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal AP-REQ: %w", err)
	}
	mechToken, err := krbGSSToken(krb5TokenIDAPReq, apReqBytes)
	if err != nil {
		return nil, err
	}
	tok := spnego.SPNEGOToken{
		Init: true,
		NegTokenInit: spnego.NegTokenInit{
			MechTypes:      []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()},
			MechTokenBytes: mechToken,
		},
	}
	b, err := tok.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal SPNEGO token: %w", err)
	}
	return b, nil
}

// krbEncAPRepPart is EncAPRepPart (RFC 4120 5.5.2) with the sequence number
// kept raw, so that an absent number can be told from zero.
type krbEncAPRepPart struct {
	CTime          time.Time           `asn1:"generalized,explicit,tag:0"`
	Cusec          int                 `asn1:"explicit,tag:1"`
	Subkey         types.EncryptionKey `asn1:"optional,explicit,tag:2"`
	SequenceNumber asn1.RawValue       `asn1:"optional,explicit,tag:3"`
}

// errKerberosAPRep is wrapped by the errors of completeKerberosContext.
var errKerberosAPRep = errors.New("invalid Kerberos AP-REP")

// complete verifies the server's answer (a SPNEGO NegTokenResp, or a bare
// GSS Kerberos token, carrying the AP-REP) and returns the client sealer.
// The AP-REP must decrypt with the session key and echo the
// authenticator's time (RFC 4120 3.2.5): this authenticates the server.
func (p *kerberosPending) complete(serverToken []byte) (s *kerberosSealer, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: malformed token", errKerberosAPRep)
		}
	}()
	mech := serverToken
	if len(serverToken) > 0 && serverToken[0] == 0xa1 { // SPNEGO NegTokenResp
		state, resp, err := parseNegTokenResp(serverToken)
		if err != nil {
			return nil, err
		}
		if state == spnego.NegStateReject {
			return nil, fmt.Errorf("%w: the server rejected the context", errKerberosAPRep)
		}
		mech = resp
	}
	tokID, inner, err := parseKrbGSSToken(mech)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(tokID, krb5TokenIDAPRep) {
		if code, ok := krbErrorInToken(mech); ok {
			return nil, fmt.Errorf("%w: the server sent %s", errKerberosAPRep, errorcode.Lookup(code))
		}
		return nil, fmt.Errorf("%w: token id %x is not an AP-REP", errKerberosAPRep, tokID)
	}
	var apRep messages.APRep
	if err := apRep.Unmarshal(inner); err != nil {
		return nil, fmt.Errorf("%w: %v", errKerberosAPRep, err)
	}
	if apRep.MsgType != msgtype.KRB_AP_REP {
		return nil, fmt.Errorf("%w: message type %d", errKerberosAPRep, apRep.MsgType)
	}
	plain, err := crypto.DecryptEncPart(apRep.EncPart, p.sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return nil, fmt.Errorf("%w: does not decrypt with the session key", errKerberosAPRep)
	}
	var part krbEncAPRepPart
	if _, err := asn1.UnmarshalWithParams(plain, &part, fmt.Sprintf("application,explicit,tag:%d", asnAppTag.EncAPRepPart)); err != nil {
		return nil, fmt.Errorf("%w: %v", errKerberosAPRep, err)
	}
	if part.CTime.Unix() != p.ctime.Unix() || part.Cusec != p.cusec {
		return nil, fmt.Errorf("%w: the server did not echo the authenticator time", errKerberosAPRep)
	}
	recvSeq := p.seq
	if len(part.SequenceNumber.FullBytes) > 0 {
		var n int64
		if _, err := asn1.Unmarshal(part.SequenceNumber.Bytes, &n); err != nil {
			return nil, fmt.Errorf("%w: sequence number: %v", errKerberosAPRep, err)
		}
		recvSeq = uint64(n) & 0xffffffff
	}
	key, acceptorSubkey := p.subkey, false
	if part.Subkey.KeyType != 0 && len(part.Subkey.KeyValue) > 0 {
		key, acceptorSubkey = part.Subkey, true
	}
	return newKerberosSealer(key, true, acceptorSubkey, p.seq, recvSeq)
}

// parseKrbGSSToken splits a Kerberos GSS token ([APPLICATION 0] { mech
// OID, token id, message }, RFC 4121 4.1). Both the Kerberos OID and the
// legacy Microsoft one (1.2.840.48018.1.2.2) that Windows may answer with
// are accepted.
func parseKrbGSSToken(b []byte) (tokID, msg []byte, err error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.UnmarshalWithParams(b, &oid, "application,explicit,tag:0")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not a Kerberos GSS token", errKerberosAPRep)
	}
	if !oid.Equal(gssapi.OIDKRB5.OID()) && !oid.Equal(gssapi.OIDMSLegacyKRB5.OID()) {
		return nil, nil, fmt.Errorf("%w: mechanism %s is not Kerberos", errKerberosAPRep, oid)
	}
	if len(rest) < 2 {
		return nil, nil, fmt.Errorf("%w: GSS token too short", errKerberosAPRep)
	}
	return rest[:2], rest[2:], nil
}

// parseNegTokenResp decodes a SPNEGO NegTokenResp and returns its state
// and response token.
func parseNegTokenResp(tok []byte) (spnego.NegState, []byte, error) {
	isInit, nt, err := spnego.UnmarshalNegToken(tok)
	if err != nil || isInit {
		return 0, nil, fmt.Errorf("%w: not a SPNEGO NegTokenResp", errKerberosAPRep)
	}
	resp, ok := nt.(spnego.NegTokenResp)
	if !ok {
		return 0, nil, fmt.Errorf("%w: not a SPNEGO NegTokenResp", errKerberosAPRep)
	}
	return resp.State(), resp.ResponseToken, nil
}
