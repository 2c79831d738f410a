package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/wsman"
)

// Token is a small serializable reattach token: enough for another
// process to find and connect to a disconnected session and receive its
// results, and never credentials. Make one with Session.Token, store it
// (String, or JSON), and use it with FromToken.
type Token struct {
	// V is the token format version (1).
	V int `json:"v"`
	// ConnectionURI is the endpoint.
	ConnectionURI string `json:"uri"`
	// ConfigurationName is the session configuration.
	ConfigurationName string `json:"config"`
	// ResourceURI is the shell's resource URI.
	ResourceURI string `json:"resource"`
	// ShellID is the shell id (the session's InstanceId).
	ShellID string `json:"shell"`
	// Name is the session name.
	Name string `json:"name,omitempty"`
	// CommandIDs are the commands running when the token was made.
	CommandIDs []string `json:"commands,omitempty"`
	// ProtocolVersion is the server's PSRP protocol version.
	ProtocolVersion string `json:"protocol,omitempty"`
	// MaxEnvelopeSize is the negotiated envelope size in bytes.
	MaxEnvelopeSize int `json:"maxEnvelope,omitempty"`
}

// Token returns the session's reattach token.
func (s *Session) Token() Token {
	t := Token{V: 1, ConnectionURI: s.uri, ConfigurationName: s.config, ResourceURI: s.ref.ResourceURI,
		ShellID: s.ref.ShellID, Name: s.Name(), ProtocolVersion: s.ProtocolVersion(),
		MaxEnvelopeSize: s.wc.MaxEnvelopeSize()}
	for _, c := range s.Commands() {
		t.CommandIDs = append(t.CommandIDs, upper(c.id))
	}
	return t
}

// String encodes the token as compact base64url JSON.
func (t Token) String() string {
	b, _ := json.Marshal(t) // plain strings and ints: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseToken decodes a token made by Token.String.
func ParseToken(s string) (Token, error) {
	var t Token
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return t, &OptionError{Field: "Token", Msg: "not base64url: " + err.Error()}
	}
	if len(b) > 64<<10 {
		return t, &OptionError{Field: "Token", Msg: "too large"}
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, &OptionError{Field: "Token", Msg: "not a token: " + err.Error()}
	}
	return t, t.validate()
}

func (t Token) validate() error {
	if t.V != 1 {
		return &OptionError{Field: "Token", Msg: fmt.Sprintf("unknown version %d", t.V)}
	}
	if _, err := uuid.Parse(t.ShellID); err != nil {
		return &OptionError{Field: "Token", Msg: "bad shell id"}
	}
	if _, err := wsman.ParseConnectionURI(t.ConnectionURI); err != nil {
		return &OptionError{Field: "Token", Msg: "bad endpoint"}
	}
	return nil
}

// FromToken makes a Session for the token's session, Disconnected relative
// to this client; Connect it, or give it to Receive (BySession). o gives
// the credentials, options, table, hooks and host; its ComputerName,
// ConnectionURI and ConfigurationName are replaced by the token's, and its
// Name and runspace counts are not used. Nothing is sent.
func FromToken(t Token, o NewOptions) (*Session, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	c := o.ConnectionOptions
	c.ComputerName, c.ConnectionURI, c.Port, c.UseSSL, c.ApplicationName = "", t.ConnectionURI, 0, false, ""
	c.ConfigurationName = t.ConfigurationName
	s, err := newSession(c, o.Table, o.Hooks, o.Host)
	if err != nil {
		return nil, err
	}
	s.instanceID = uuid.MustParse(t.ShellID)
	s.ref = wsman.ShellRef{ResourceURI: t.ResourceURI, ShellID: t.ShellID}
	if s.ref.ResourceURI == "" {
		s.ref.ResourceURI = wsman.PowerShellResourceURI(t.ConfigurationName)
	}
	s.name = t.Name
	s.protocol = t.ProtocolVersion
	s.state = StateDisconnected
	if t.MaxEnvelopeSize > s.wc.MaxEnvelopeSize() {
		s.wc.SetMaxEnvelopeSize(t.MaxEnvelopeSize)
	}
	s.table.add(s)
	return s, nil
}
