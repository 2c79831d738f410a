package psrp

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// Default SESSION_CAPABILITY values a client announces (those of Windows
// PowerShell 5.1; protocol 2.3 adds the information stream).
const (
	DefaultProtocolVersion      = "2.3"
	DefaultPSVersion            = "2.0"
	DefaultSerializationVersion = "1.1.0.1"
)

// ClientPoolConfig configures a ClientPool.
type ClientPoolConfig struct {
	// RunspacePoolID is the pool's id (RPID, equal to the WSMan ShellId). It
	// must be set: a new random id for Open, the enumerated ShellId for
	// Connect.
	RunspacePoolID uuid.UUID
	// MinRunspaces and MaxRunspaces of the pool (0 means 1).
	MinRunspaces, MaxRunspaces int32
	// ThreadOptions and ApartmentState go into INIT_RUNSPACEPOOL.
	ThreadOptions  PSThreadOptions
	ApartmentState ApartmentState
	// HostInfo describes the client's host; nil means NoHost().
	HostInfo *HostInfo
	// ApplicationArguments is a PSPrimitiveDictionary (see
	// NewPSPrimitiveDictionary) or nil.
	ApplicationArguments *clixml.Object
	// Capability is what the client announces; nil means protocol
	// DefaultProtocolVersion, PSVersion DefaultPSVersion, serialization
	// DefaultSerializationVersion.
	Capability *SessionCapability
	// ConnectWithCounts makes Connect send MinRunspaces/MaxRunspaces in
	// CONNECT_RUNSPACEPOOL. The server then rejects the connect unless they
	// equal the pool's; by default none are sent, as .NET does.
	ConnectWithCounts bool
	// MaxFragmentSize is the largest fragment sent, header included (0 means
	// DefaultMaxFragmentSize). Raise it with SetMaxFragmentSize once the
	// envelope size is known.
	MaxFragmentSize int
	// Defragmenter bounds what is held while reassembling received
	// messages. Zero fields take DefragmenterOptionsFor(ResponseLimit).
	Defragmenter DefragmenterOptions
	// ResponseLimit is the largest response body the caller's transport
	// accepts (wsman.Client.MaxResponseBytes); the Defragmenter limits
	// left zero are sized from it, so that a hostile server can make the
	// pool hold about one response limit, not more. Zero means
	// DefaultResponseLimit (the wsman default, 16 MiB).
	ResponseLimit int64
	// CLIXML bounds the decoding of the messages the pool decodes itself
	// (SESSION_CAPABILITY, RUNSPACEPOOL_STATE, RUNSPACEPOOL_INIT_DATA,
	// PIPELINE_STATE, host calls, ...); zero fields take the clixml
	// defaults. Output and records (PipelineOutputReceived and the like)
	// are decoded by the caller, who can use the same options
	// (ClientPool.CLIXMLOptions).
	CLIXML clixml.DecoderOptions
}

// ClientPool is the client side of one runspace pool: a sans-IO state
// machine. The caller moves bytes between it and the WSMan transport:
//
//   - operations (Open, Connect, SetMaxRunspaces, NewPipeline + Invoke, ...)
//     queue messages; NextPayload(target, n) hands them out as payloads of at
//     most n bytes for the creationXml, connectXml, Command Arguments or Send
//     of that target;
//   - the data of every Receive (and of connectResponseXml) goes to
//     ReceiveData, which returns typed events;
//   - transport-level steps that PSRP does not see (Disconnect, Reconnect,
//     a failed request, Delete) are reported with BeginDisconnect,
//     DisconnectCompleted, BeginReconnect, ReconnectCompleted, Broken, Close
//     and Closed.
//
// One ObjectId counter is shared by the pool and all its pipelines.
// A ClientPool is not safe for concurrent use.
type ClientPool struct {
	cfg       ClientPoolConfig
	id        uuid.UUID
	state     RunspacePoolState
	ids       ObjectIDCounter
	maxFrag   int
	defrag    *Defragmenter
	out       Fragmenter // pool stdin
	outPR     Fragmenter // pool "pr"
	pipes     map[uuid.UUID]*ClientPipeline
	order     []*ClientPipeline // creation order, for PendingTargets
	serverCap *SessionCapability
	initData  *RunspacePoolInitData
	nextCI    int64
	kex       *ClientKeyExchange
	cipher    *SecureStringCipher
	// awaitingInit: a new-client Connect waits for RUNSPACEPOOL_INIT_DATA.
	awaitingInit bool
	// connectedNew: the pool was joined with Connect (new client).
	connectedNew bool
	// track: ObjectIds received, duplicates and gaps (exactly_once.go).
	track *receiveTracker
}

// NewClientPool returns a pool in state BeforeOpen.
func NewClientPool(cfg ClientPoolConfig) (*ClientPool, error) {
	if cfg.RunspacePoolID == uuid.Nil {
		return nil, errors.New("psrp: ClientPoolConfig.RunspacePoolID is required")
	}
	if cfg.MinRunspaces <= 0 {
		cfg.MinRunspaces = 1
	}
	if cfg.MaxRunspaces <= 0 {
		cfg.MaxRunspaces = max(1, cfg.MinRunspaces)
	}
	if cfg.MinRunspaces > cfg.MaxRunspaces {
		return nil, fmt.Errorf("psrp: MinRunspaces %d exceeds MaxRunspaces %d", cfg.MinRunspaces, cfg.MaxRunspaces)
	}
	if cfg.Capability == nil {
		cfg.Capability = &SessionCapability{ProtocolVersion: DefaultProtocolVersion, PSVersion: DefaultPSVersion,
			SerializationVersion: DefaultSerializationVersion}
	}
	defrag := NewDefragmenter(cfg.Defragmenter.or(DefragmenterOptionsFor(cfg.ResponseLimit)))
	p := &ClientPool{cfg: cfg, id: cfg.RunspacePoolID, defrag: defrag,
		pipes: make(map[uuid.UUID]*ClientPipeline)}
	p.out = *NewFragmenter(cfg.MaxFragmentSize, &p.ids)
	p.outPR = *NewFragmenter(cfg.MaxFragmentSize, &p.ids)
	p.maxFrag = p.out.MaxFragmentSize()
	return p, nil
}

// DefragmenterOptions returns the reassembly limits in effect.
func (p *ClientPool) DefragmenterOptions() DefragmenterOptions { return p.defrag.Options() }

// CLIXMLOptions returns ClientPoolConfig.CLIXML, the decoder options the pool
// decodes its messages with; callers can decode output data with them.
func (p *ClientPool) CLIXMLOptions() clixml.DecoderOptions { return p.cfg.CLIXML }

// ID returns the runspace pool id (RPID).
func (p *ClientPool) ID() uuid.UUID { return p.id }

// State returns the pool's state.
func (p *ClientPool) State() RunspacePoolState { return p.state }

// ServerCapability returns the server's SESSION_CAPABILITY, nil until it
// arrives.
func (p *ClientPool) ServerCapability() *SessionCapability { return p.serverCap }

// InitData returns the RUNSPACEPOOL_INIT_DATA of a connect, nil otherwise.
func (p *ClientPool) InitData() *RunspacePoolInitData { return p.initData }

// SecureStringCipher returns the cipher of the negotiated session key, nil
// before ENCRYPTED_SESSION_KEY has arrived.
func (p *ClientPool) SecureStringCipher() *SecureStringCipher { return p.cipher }

// Pipeline returns the pipeline with the given id, or nil. Pipelines that
// reached a terminal state are forgotten.
func (p *ClientPool) Pipeline(id uuid.UUID) *ClientPipeline { return p.pipes[id] }

// Pipelines returns the pool's unfinished pipelines in creation order.
func (p *ClientPool) Pipelines() []*ClientPipeline {
	return append([]*ClientPipeline(nil), p.order...)
}

// MaxFragmentSize returns the current largest fragment size.
func (p *ClientPool) MaxFragmentSize() int { return p.maxFrag }

// SetMaxFragmentSize changes the largest fragment (header included) for data
// queued from now on, for example once the server's envelope size is known.
func (p *ClientPool) SetMaxFragmentSize(n int) {
	p.out.SetMaxFragmentSize(n)
	p.outPR.SetMaxFragmentSize(n)
	p.maxFrag = p.out.MaxFragmentSize()
	for _, pl := range p.order {
		pl.out.SetMaxFragmentSize(n)
		pl.outPR.SetMaxFragmentSize(n)
	}
}

func (p *ClientPool) stateErr(op string, mt MessageType, detail string) *StateError {
	return &StateError{Op: op, PoolState: p.state, Message: mt, Detail: detail}
}

// setState applies a pool transition and returns its event.
func (p *ClientPool) setState(next RunspacePoolState, info *RunspacePoolStateInfo, reason error) Event {
	old := p.state
	p.state = next
	return RunspacePoolStateChanged{Old: old, New: next, Info: info, Reason: reason}
}

// queue encodes d and queues it on f, addressed to the server.
func (p *ClientPool) queue(f *Fragmenter, pid uuid.UUID, d MessageData) error {
	data, err := encodeData(d)
	if err != nil {
		return err
	}
	p.queueRaw(f, d.MessageType(), pid, data)
	return nil
}

func (p *ClientPool) queueRaw(f *Fragmenter, mt MessageType, pid uuid.UUID, data []byte) {
	m := Message{Destination: DestinationServer, Type: mt, RunspacePoolID: p.id, PipelineID: pid, Data: data}
	f.Queue(AppendMessage(make([]byte, 0, MessageHeaderSize+len(data)), &m, false))
}

func (p *ClientPool) initMessage() *InitRunspacePool {
	host := NoHost()
	if p.cfg.HostInfo != nil {
		host = *p.cfg.HostInfo
	}
	return &InitRunspacePool{MinRunspaces: p.cfg.MinRunspaces, MaxRunspaces: p.cfg.MaxRunspaces,
		ThreadOptions: p.cfg.ThreadOptions, ApartmentState: p.cfg.ApartmentState, HostInfo: host,
		ApplicationArguments: p.cfg.ApplicationArguments}
}

// Open starts opening a new pool: BeforeOpen → Opening, and queues
// SESSION_CAPABILITY and INIT_RUNSPACEPOOL on PoolTarget. Put the first
// payload in the Create's creationXml and Send any rest; then Receive on the
// pool until RUNSPACEPOOL_STATE Opened.
func (p *ClientPool) Open() error {
	if p.state != RunspacePoolBeforeOpen {
		return p.stateErr("Open", 0, "the pool was already opened or connected")
	}
	if err := p.queue(&p.out, uuid.Nil, p.cfg.Capability); err != nil {
		return err
	}
	if err := p.queue(&p.out, uuid.Nil, p.initMessage()); err != nil {
		p.out.discard()
		return err
	}
	p.state = RunspacePoolOpening
	return nil
}

// Connect starts connecting to an existing, disconnected pool from a new
// client (MS-PSRP 3.1.4.10.3): BeforeOpen → Connecting, ObjectIds restart at
// 1, and SESSION_CAPABILITY + CONNECT_RUNSPACEPOOL are queued on PoolTarget.
// Take them with ConnectPayload (they must travel in one connectXml), then
// give the connectResponseXml to ReceiveData: RUNSPACEPOOL_INIT_DATA opens
// the pool. Pipelines still running on the server are then adopted with
// AdoptPipeline.
func (p *ClientPool) Connect() error {
	if p.state != RunspacePoolBeforeOpen {
		return p.stateErr("Connect", 0, "a pool that was opened by this client reconnects with BeginReconnect")
	}
	p.ids.Reset()
	if err := p.queue(&p.out, uuid.Nil, p.cfg.Capability); err != nil {
		return err
	}
	c := &ConnectRunspacePool{}
	if p.cfg.ConnectWithCounts {
		c.HasCounts, c.MinRunspaces, c.MaxRunspaces = true, p.cfg.MinRunspaces, p.cfg.MaxRunspaces
	}
	if err := p.queue(&p.out, uuid.Nil, c); err != nil {
		p.out.discard()
		return err
	}
	p.state = RunspacePoolConnecting
	p.awaitingInit = true
	p.connectedNew = true
	return nil
}

// ConnectPayload returns the connectXml payload of a Connect: the queued
// SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL as one complete fragment each
// (servers reject anything else, whatever the fragment size), in one payload
// of at most maxPayload bytes, or an error wrapping ErrPayloadTooSmall
// (nothing is taken) when they do not fit.
func (p *ClientPool) ConnectPayload(maxPayload int) ([]byte, error) {
	if p.state != RunspacePoolConnecting || !p.awaitingInit {
		return nil, p.stateErr("ConnectPayload", 0, "Connect was not called")
	}
	defer p.out.SetMaxFragmentSize(p.maxFrag)
	p.out.SetMaxFragmentSize(max(maxPayload, MinFragmentSize))
	return p.out.NextPayloadAll(maxPayload)
}

func (p *ClientPool) requireOpened(op string) error {
	if p.state != RunspacePoolOpened {
		return p.stateErr(op, 0, "the pool is not Opened")
	}
	return nil
}

func (p *ClientPool) callID() int64 {
	p.nextCI++
	return p.nextCI
}

// SetMaxRunspaces queues SET_MAX_RUNSPACES and returns its call id; the
// answer is a RunspaceAvailabilityReceived with that CallID.
func (p *ClientPool) SetMaxRunspaces(n int32) (int64, error) {
	if err := p.requireOpened("SetMaxRunspaces"); err != nil {
		return 0, err
	}
	ci := p.callID()
	return ci, p.queue(&p.out, uuid.Nil, &SetMaxRunspaces{MaxRunspaces: n, CallID: ci})
}

// SetMinRunspaces queues SET_MIN_RUNSPACES and returns its call id.
func (p *ClientPool) SetMinRunspaces(n int32) (int64, error) {
	if err := p.requireOpened("SetMinRunspaces"); err != nil {
		return 0, err
	}
	ci := p.callID()
	return ci, p.queue(&p.out, uuid.Nil, &SetMinRunspaces{MinRunspaces: n, CallID: ci})
}

// GetAvailableRunspaces queues GET_AVAILABLE_RUNSPACES and returns its call id.
func (p *ClientPool) GetAvailableRunspaces() (int64, error) {
	if err := p.requireOpened("GetAvailableRunspaces"); err != nil {
		return 0, err
	}
	ci := p.callID()
	return ci, p.queue(&p.out, uuid.Nil, &GetAvailableRunspaces{CallID: ci})
}

// ResetRunspaceState queues RESET_RUNSPACE_STATE (protocol 2.3) and returns
// its call id.
func (p *ClientPool) ResetRunspaceState() (int64, error) {
	if err := p.requireOpened("ResetRunspaceState"); err != nil {
		return 0, err
	}
	ci := p.callID()
	return ci, p.queue(&p.out, uuid.Nil, &ResetRunspaceState{CallID: ci})
}

// RequestSessionKey starts the SecureString key exchange: it makes an RSA
// key pair (from rnd, crypto/rand when nil) unless one was made before, and
// queues PUBLIC_KEY. The answer is a SessionKeyReceived event. (When both
// sides speak protocol 2.4, PowerShell 7.6, the exchange is obsolete.)
func (p *ClientPool) RequestSessionKey(rnd io.Reader) error {
	if err := p.requireOpened("RequestSessionKey"); err != nil {
		return err
	}
	if p.kex == nil {
		k, err := NewClientKeyExchange(rnd)
		if err != nil {
			return err
		}
		p.kex = k
	}
	return p.queue(&p.out, uuid.Nil, &PublicKey{Key: p.kex.PublicKeyBlob()})
}

// SetKeyExchange makes RequestSessionKey use k instead of generating a key
// pair (RSA key generation is slow; a program may reuse one).
func (p *ClientPool) SetKeyExchange(k *ClientKeyExchange) { p.kex = k }

// HostResponse queues a RUNSPACEPOOL_HOST_RESPONSE on the pool's "pr"
// stream (Target{Stream: StreamPromptResponse}); it clears r.Pipeline.
func (p *ClientPool) HostResponse(r *HostResponse) error {
	if err := p.requireOpened("HostResponse"); err != nil {
		return err
	}
	r.Pipeline = false
	return p.queue(&p.outPR, uuid.Nil, r)
}
