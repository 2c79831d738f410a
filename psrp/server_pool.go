package psrp

import (
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// connectResponseFragmentSize is the largest fragment in a connect response;
// .NET uses a separate 4 KiB fragmenter there, but always sends complete
// fragments, so a larger message simply becomes one bigger fragment.
const connectResponseFragmentSize = 4 << 10

// ServerPoolConfig configures a ServerPool.
type ServerPoolConfig struct {
	// Capability is what the server announces; nil means protocol
	// DefaultProtocolVersion, PSVersion DefaultPSVersion, serialization
	// DefaultSerializationVersion (what Windows PowerShell 5.1 sends).
	Capability *SessionCapability
	// MaxFragmentSize is the largest fragment the server sends (0 means
	// DefaultMaxFragmentSize, the .NET server's 32 KiB).
	MaxFragmentSize int
	// Defragmenter bounds what is held while reassembling client messages.
	Defragmenter DefragmenterOptions
	// MaxPipelines bounds the pipelines a pool holds at one time, finished
	// ones included until RemovePipeline (0 means DefaultMaxPipelines, the
	// WinRM MaxConcurrentCommandsPerShell default).
	MaxPipelines int
}

// DefaultMaxPipelines is the default ServerPoolConfig.MaxPipelines.
const DefaultMaxPipelines = 1000

// ServerPool is the server side of one runspace pool: a sans-IO state
// machine for a fake or real PSRP server. The caller feeds it the PSRP
// payloads of creationXml, Command Arguments and Send (ReceiveData) and of a
// connectXml (ReceiveConnect), acts on the events, answers with the Send*
// and SetState methods and the ServerPipeline writers, and serves WSMan
// Receives from the per-target queues: NextPayload(PoolTarget, n) for a
// Receive without CommandId and NextPayload(Target{Pipeline: id}, n) for
// one with it. Pending tells how much is queued, so a server can implement
// output buffer limits (Block) or discard (Drop).
//
// One ObjectId counter serves the pool and all its pipelines and keeps
// counting across disconnect and connect, as Windows does. A ServerPool is
// not safe for concurrent use.
type ServerPool struct {
	cfg       ServerPoolConfig
	id        uuid.UUID
	state     RunspacePoolState
	ids       ObjectIDCounter
	defrag    *Defragmenter
	out       Fragmenter
	pipes     map[uuid.UUID]*ServerPipeline
	order     []*ServerPipeline
	clientCap *SessionCapability
	min, max  int32
	publicKey []byte
	cipher    *SecureStringCipher
	// setCalls remembers SET_MAX/MIN_RUNSPACES calls until answered.
	setCalls map[int64]SetRunspacesReceived
	// openedMsg and openedID are the wire form and ObjectId of the
	// RUNSPACEPOOL_STATE Opened that opened the pool (see
	// SendConnectAnnouncement).
	openedMsg []byte
	openedID  uint64
}

// NewServerPool returns a pool in state BeforeOpen for the runspace pool
// id (the ShellId); uuid.Nil takes the id of the first message received.
func NewServerPool(id uuid.UUID, cfg ServerPoolConfig) *ServerPool {
	if cfg.Capability == nil {
		cfg.Capability = &SessionCapability{ProtocolVersion: DefaultProtocolVersion, PSVersion: DefaultPSVersion,
			SerializationVersion: DefaultSerializationVersion}
	}
	if cfg.MaxPipelines <= 0 {
		cfg.MaxPipelines = DefaultMaxPipelines
	}
	s := &ServerPool{cfg: cfg, id: id, defrag: NewDefragmenter(cfg.Defragmenter), pipes: make(map[uuid.UUID]*ServerPipeline)}
	s.out = *NewFragmenter(cfg.MaxFragmentSize, &s.ids)
	return s
}

// ID returns the runspace pool id.
func (s *ServerPool) ID() uuid.UUID { return s.id }

// State returns the pool's state.
func (s *ServerPool) State() RunspacePoolState { return s.state }

// ClientCapability returns the client's SESSION_CAPABILITY, nil before it
// arrived.
func (s *ServerPool) ClientCapability() *SessionCapability { return s.clientCap }

// Runspaces returns the pool's MinRunspaces and MaxRunspaces (from
// INIT_RUNSPACEPOOL, changed by SendRunspaceAvailability answers to
// SET_MIN/MAX_RUNSPACES).
func (s *ServerPool) Runspaces() (minRunspaces, maxRunspaces int32) { return s.min, s.max }

// SecureStringCipher returns the cipher of the session key sent with
// SendSessionKey, nil before.
func (s *ServerPool) SecureStringCipher() *SecureStringCipher { return s.cipher }

// Pipeline returns the pipeline with the given id, or nil.
func (s *ServerPool) Pipeline(id uuid.UUID) *ServerPipeline { return s.pipes[id] }

// Pipelines returns the pool's pipelines in creation order.
func (s *ServerPool) Pipelines() []*ServerPipeline {
	return append([]*ServerPipeline(nil), s.order...)
}

// RemovePipeline forgets a pipeline and drops its queued output (after a
// Signal terminate). It reports whether the pipeline existed.
func (s *ServerPool) RemovePipeline(id uuid.UUID) bool {
	pl := s.pipes[id]
	if pl == nil {
		return false
	}
	delete(s.pipes, id)
	for i, x := range s.order {
		if x == pl {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	pl.out.discard()
	return true
}

func (s *ServerPool) stateErr(op string, mt MessageType, detail string) *StateError {
	return &StateError{Op: op, PoolState: s.state, Message: mt, Detail: detail}
}

// queueOn encodes d and queues it on f, addressed to the client.
func (s *ServerPool) queueOn(f *Fragmenter, rpid, pid uuid.UUID, d MessageData) error {
	data, err := encodeData(d)
	if err != nil {
		return err
	}
	s.queueRaw(f, d.MessageType(), rpid, pid, data)
	return nil
}

// queueRaw queues a message with data on f and returns its ObjectId and
// wire form.
func (s *ServerPool) queueRaw(f *Fragmenter, mt MessageType, rpid, pid uuid.UUID, data []byte) (uint64, []byte) {
	m := Message{Destination: DestinationClient, Type: mt, RunspacePoolID: rpid, PipelineID: pid, Data: data}
	msg := AppendMessage(make([]byte, 0, MessageHeaderSize+3+len(data)), &m, true)
	return f.Queue(msg), msg
}

func (s *ServerPool) requireOpened(op string) error {
	if s.state != RunspacePoolOpened {
		return s.stateErr(op, 0, "the pool is not Opened")
	}
	return nil
}

// SendApplicationPrivateData queues APPLICATION_PRIVATE_DATA during an open
// (Opening, before SetState(Opened)); after a connect use
// SendConnectAnnouncement.
func (s *ServerPool) SendApplicationPrivateData(d *ApplicationPrivateData) error {
	if s.state != RunspacePoolOpening && s.state != RunspacePoolOpened {
		return s.stateErr("SendApplicationPrivateData", 0, "the pool is not opening or opened")
	}
	return s.queueOn(&s.out, s.id, uuid.Nil, d)
}

// SetState moves the pool to state and queues RUNSPACEPOOL_STATE with the
// error record, if any (servers send Opened and Broken, and may send
// Closed). Moving to Broken or Closed also fails or stops every unfinished
// pipeline (without messages: the client learns it from the pool state).
// SetState(RunspacePoolOpened) on an Opened pool announces the state again,
// as some Windows versions do after a connect from a new client.
func (s *ServerPool) SetState(state RunspacePoolState, errRecord *ErrorRecord) error {
	if state == RunspacePoolOpened && s.state == RunspacePoolOpened {
		return s.queueOn(&s.out, s.id, uuid.Nil, &RunspacePoolStateInfo{State: state, Error: errRecord})
	}
	if state > RunspacePoolBroken || !s.state.CanTransition(state) {
		return s.stateErr("SetState", 0, fmt.Sprintf("cannot move to %s", state))
	}
	info := &RunspacePoolStateInfo{State: state, Error: errRecord}
	data, err := encodeData(info)
	if err != nil {
		return err
	}
	id, msg := s.queueRaw(&s.out, info.MessageType(), s.id, uuid.Nil, data)
	if state == RunspacePoolOpened {
		s.openedMsg, s.openedID = msg, id
	}
	s.state = state
	if state.Final() {
		for _, pl := range s.order {
			if !pl.state.Terminal() {
				if state == RunspacePoolBroken {
					pl.state = PSInvocationFailed
				} else {
					pl.state = PSInvocationStopped
				}
			}
		}
	}
	return nil
}

// SendRunspaceAvailability queues RUNSPACE_AVAILABILITY answering call
// callID: a Boolean for SET_MAX/MIN_RUNSPACES and RESET_RUNSPACE_STATE. When
// the answer to a SET_MAX/MIN is true the pool's counts are updated.
func (s *ServerPool) SendRunspaceAvailability(callID int64, ok bool) error {
	if err := s.requireOpened("SendRunspaceAvailability"); err != nil {
		return err
	}
	if err := s.queueOn(&s.out, s.id, uuid.Nil, &RunspaceAvailability{CallID: callID, Success: ok}); err != nil {
		return err
	}
	if c, found := s.setCalls[callID]; found {
		delete(s.setCalls, callID)
		if ok && c.Max {
			s.max = c.Count
		} else if ok {
			s.min = c.Count
		}
	}
	return nil
}

// SendAvailableRunspaces queues RUNSPACE_AVAILABILITY with a count,
// answering GET_AVAILABLE_RUNSPACES call callID.
func (s *ServerPool) SendAvailableRunspaces(callID int64, n int64) error {
	if err := s.requireOpened("SendAvailableRunspaces"); err != nil {
		return err
	}
	return s.queueOn(&s.out, s.id, uuid.Nil, &RunspaceAvailability{CallID: callID, IsCount: true, Count: n})
}

// SendUserEvent queues a USER_EVENT.
func (s *ServerPool) SendUserEvent(e *UserEvent) error {
	if err := s.requireOpened("SendUserEvent"); err != nil {
		return err
	}
	return s.queueOn(&s.out, s.id, uuid.Nil, e)
}

// HostCall queues a RUNSPACEPOOL_HOST_CALL (it clears c.Pipeline).
func (s *ServerPool) HostCall(c *HostCall) error {
	if err := s.requireOpened("HostCall"); err != nil {
		return err
	}
	c.Pipeline = false
	return s.queueOn(&s.out, s.id, uuid.Nil, c)
}

// WriteWarning queues a pool-level WARNING_RECORD (it sets r.Type).
func (s *ServerPool) WriteWarning(r *InformationalRecord) error {
	if err := s.requireOpened("WriteWarning"); err != nil {
		return err
	}
	r.Type = MessageWarningRecord
	return s.queueOn(&s.out, s.id, uuid.Nil, r)
}

// RequestPublicKey queues PUBLIC_KEY_REQUEST: the server asks the client to
// start the session key exchange.
func (s *ServerPool) RequestPublicKey() error {
	if err := s.requireOpened("RequestPublicKey"); err != nil {
		return err
	}
	return s.queueOn(&s.out, s.id, uuid.Nil, &PublicKeyRequest{})
}

// SendSessionKey answers the client's PUBLIC_KEY: it makes an AES-256
// session key (from rnd, crypto/rand when nil), queues it encrypted in
// ENCRYPTED_SESSION_KEY and keeps it for SecureStringCipher.
func (s *ServerPool) SendSessionKey(rnd io.Reader) error {
	if err := s.requireOpened("SendSessionKey"); err != nil {
		return err
	}
	if s.publicKey == nil {
		return s.stateErr("SendSessionKey", 0, "no PUBLIC_KEY was received")
	}
	key, err := NewSessionKey(rnd)
	if err != nil {
		return err
	}
	blob, err := EncryptSessionKey(rnd, s.publicKey, key)
	if err != nil {
		return err
	}
	c, err := NewSecureStringCipher(key)
	if err != nil {
		return err
	}
	if err := s.queueOn(&s.out, s.id, uuid.Nil, &EncryptedSessionKey{Key: blob}); err != nil {
		return err
	}
	s.cipher = c
	return nil
}

// ConnectResponse returns the connectResponseXml payload answering a
// CONNECT_RUNSPACEPOOL: SESSION_CAPABILITY and RUNSPACEPOOL_INIT_DATA with
// the pool's counts, as complete fragments whose ObjectIds continue the
// pool's counter. The pool stays Opened; call SendConnectAnnouncement next
// for what the new client's first pool Receive gets.
func (s *ServerPool) ConnectResponse() ([]byte, error) {
	if err := s.requireOpened("ConnectResponse"); err != nil {
		return nil, err
	}
	f := NewFragmenter(connectResponseFragmentSize, &s.ids)
	if err := s.queueOn(f, s.id, uuid.Nil, s.cfg.Capability); err != nil {
		return nil, err
	}
	if err := s.queueOn(f, s.id, uuid.Nil, &RunspacePoolInitData{MinRunspaces: s.min, MaxRunspaces: s.max}); err != nil {
		return nil, err
	}
	var out []byte
	for f.Len() > 0 {
		b, err := f.NextPayload(connectResponseFragmentSize)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// SendConnectAnnouncement queues what Windows sends on a new client's first
// pool Receive after a connect (after ConnectResponse):
//
//   - when the pool holds pipelines (Pipelines is not empty: a pipeline
//     counts until RemovePipeline), APPLICATION_PRIVATE_DATA d with a new
//     ObjectId (test_psrp_disconnected_commands.yml, exchanges 14 and 19);
//   - otherwise the RUNSPACEPOOL_STATE Opened that opened the pool once more,
//     byte for byte and under the ObjectId it was first sent with
//     (test_psrp_disconnect_runspaces.yml, exchanges 15 and 17, where it has
//     ObjectId 3 after the connect response's 4 and 5).
//
// The recordings show only a pool with a running pipeline and one that
// never had any; a pool whose pipelines all finished but were not removed
// is treated as one with pipelines.
func (s *ServerPool) SendConnectAnnouncement(d *ApplicationPrivateData) error {
	if err := s.requireOpened("SendConnectAnnouncement"); err != nil {
		return err
	}
	if len(s.order) > 0 {
		return s.queueOn(&s.out, s.id, uuid.Nil, d)
	}
	if s.openedMsg == nil {
		return s.queueOn(&s.out, s.id, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolOpened})
	}
	s.out.queueAs(s.openedMsg, s.openedID)
	return nil
}

// NextPayload returns the next payload of at most maxPayload bytes queued
// for target (PoolTarget, or Target{Pipeline: id}), or nil when nothing is
// queued there.
func (s *ServerPool) NextPayload(t Target, maxPayload int) ([]byte, error) {
	f := s.fragmenter(t)
	if f == nil {
		return nil, nil
	}
	return f.NextPayload(maxPayload)
}

// Pending returns the bytes queued for target, fragment headers included.
func (s *ServerPool) Pending(t Target) int {
	if f := s.fragmenter(t); f != nil {
		return f.Pending()
	}
	return 0
}

// PendingMessages returns the number of messages queued for target.
func (s *ServerPool) PendingMessages(t Target) int {
	if f := s.fragmenter(t); f != nil {
		return f.Len()
	}
	return 0
}

// DropOldest discards the oldest message queued for target that has not been
// partly sent, as a server in output buffering mode Drop does when its
// buffer is full. It reports whether a message was dropped.
func (s *ServerPool) DropOldest(t Target) bool {
	f := s.fragmenter(t)
	if f == nil {
		return false
	}
	return f.dropOldestUnsent()
}

func (s *ServerPool) fragmenter(t Target) *Fragmenter {
	if t.Pipeline == uuid.Nil {
		return &s.out
	}
	if pl := s.pipes[t.Pipeline]; pl != nil {
		return &pl.out
	}
	return nil
}

// encodeValueOrNil marshals v, writing <Nil /> for a nil value.
func encodeValueOrNil(v clixml.Value) ([]byte, error) {
	if v == nil {
		v = clixml.Nil{}
	}
	return encodeValue(v)
}
