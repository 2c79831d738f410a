package session

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/wsman"
)

// nextID numbers sessions per process, as PowerShell's Id.
var nextID atomic.Int64

// upper is the one place ids become the upper-case form WSMan uses.
func upper(id uuid.UUID) string { return strings.ToUpper(id.String()) }

// Session is a PSSession: one runspace pool on one remote shell, driven
// over one *wsman.Client (what pgconn is to pgx, or ssh.Client). Its
// methods are safe for concurrent use.
//
// A Session runs goroutines while it is connected: one long-poll Receive
// for the pool (which is also the keep-alive) and one per command whose
// results someone consumes; Close and Remove wait for all of them.
type Session struct {
	id         int
	name       string
	instanceID uuid.UUID
	computer   string
	config     string
	uri        string
	conn       ConnectionOptions // to connect again; its Credential is never logged
	wc         *wsman.Client
	ref        wsman.ShellRef
	log        *slog.Logger
	table      *Table
	hooks      Hooks
	host       HostHandler

	opMu    sync.Mutex    // serializes Disconnect, Connect and Remove
	sendMu  sync.Mutex    // serializes Sends (fragments of one target stay in order)
	polls   chan struct{} // long-poll slots
	pollers atomic.Int32  // loops that want to poll (pool loop and pumps)

	mu             sync.Mutex
	pool           *psrp.ClientPool // nil until connected by this client
	state          State
	otherClient    bool // got from the server: connected to another client
	idleTimeout    time.Duration
	maxIdleTimeout time.Duration
	bufferMode     OutputBufferingMode
	wantBufferMode OutputBufferingMode // asked for by New, sent with the next Disconnect
	disconnectedOn time.Time
	expiresOn      time.Time
	protocol       string
	cmds           []*RunningCommand
	poolLoop       bool
	ctx            context.Context // ends the session's goroutines
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	gen            uint64       // counts connections: a long poll's failure belongs to one
	reason         error        // why the session broke or closed
	server         *wsman.Shell // what the server last reported
	created        bool         // New created the shell (to delete it if opening fails)

	// Hooks.StateChanged notifications (guarded by mu): what was last
	// reported, the queue, and whether a goroutine is delivering it.
	lastState  State
	lastAvail  Availability
	notified   bool
	notes      []note
	delivering bool
}

// Hooks are optional callbacks for state changes. They are called from
// the session's goroutines without its locks held; they must not block
// for long.
type Hooks struct {
	// StateChanged is called when the session's State or Availability
	// changes (Availability turns Busy while commands run, Available when
	// they end). Calls are serialized and in order.
	StateChanged func(s *Session, state State, availability Availability, reason error)
	// CommandStateChanged is called when a command ends.
	CommandStateChanged func(c *RunningCommand, state psrp.PSInvocationState)
	// KeepAlive is called each time the pool's keep-alive long poll ends
	// without data (the server held it for the OperationTimeout) and is
	// renewed.
	KeepAlive func(s *Session)
	// Retry is called with the transport's robust-connection events
	// (NetworkFailureDetected, ConnectionRetryAttempt,
	// ConnectionRetrySucceeded: PowerShell's names) from the goroutine
	// making the request, which waits for it.
	Retry func(s *Session, ev wsman.RetryEvent)
	// ServerInfo is called when the server reports the session's shell
	// (Get, Refresh, Connect): sh.ShellInactivity, sh.IdleTimeOut and
	// Session.ExpiresOn tell how long until the server deletes a
	// disconnected session.
	ServerInfo func(s *Session, sh *wsman.Shell)
}

// NewOptions are the parameters of New (New-PSSession).
type NewOptions struct {
	ConnectionOptions
	// Name is the session name (Get-PSSession shows it; the server keeps
	// it so that a new client can find the session by name).
	Name string
	// MinRunspaces and MaxRunspaces of the pool (0 means 1).
	MinRunspaces, MaxRunspaces int32
	// Hooks are state-change callbacks.
	Hooks Hooks
	// Host answers host calls (Read-Host, prompts, ...); nil uses the
	// default policy (see HostHandler).
	Host HostHandler
	// Table records the session (nil: DefaultTable).
	Table *Table
}

// New creates a session (New-PSSession): it creates the shell, opens the
// runspace pool and records the session in the table.
func New(ctx context.Context, o NewOptions) (*Session, error) {
	if so := o.SessionOption; so.IdleTimeout != 0 && so.IdleTimeout < minIdleTimeout {
		return nil, &IdleTimeoutError{Requested: so.IdleTimeout, Min: minIdleTimeout}
	}
	if o.SessionOption.OpenTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.SessionOption.OpenTimeout)
		defer cancel()
	}
	s, err := newSession(o.ConnectionOptions, o.Table, o.Hooks, o.Host)
	if err != nil {
		return nil, err
	}
	s.name = o.Name
	s.instanceID = uuid.New()
	s.ref.ShellID = upper(s.instanceID)
	if err := s.open(ctx, o); err != nil {
		if s.created {
			// Do not leave a half-opened shell behind on the server.
			_ = s.wc.Delete(context.WithoutCancel(ctx), s.ref)
		}
		s.shutdown(err)
		return nil, &SessionError{Op: "new", ComputerName: s.computer, Name: s.name, Kind: classify(err), Err: err}
	}
	s.table.add(s)
	return s, nil
}

// minIdleTimeout is the smallest IdleTimeout Windows accepts (60 s).
const minIdleTimeout = 60 * time.Second

func newSession(c ConnectionOptions, t *Table, h Hooks, host HostHandler) (*Session, error) {
	var s *Session
	wc, err := c.newClientWith(func(ev wsman.RetryEvent) {
		if s == nil {
			return
		}
		s.log.Debug("connection retry", "id", s.id, "event", ev.Kind.String(), "action", ev.Action,
			"attempt", ev.Attempt, "err", ev.Err)
		if f := s.hooks.Retry; f != nil {
			f(s, ev)
		}
	})
	if err != nil {
		return nil, err
	}
	if t == nil {
		t = DefaultTable
	}
	n := c.SessionOption.MaxConcurrentReceives
	if n <= 0 {
		n = DefaultMaxConcurrentReceives
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s = &Session{
		id: int(nextID.Add(1)), computer: c.computerName(), config: c.ConfigurationName, uri: wc.URL(),
		conn: c, wc: wc, log: log, table: t, hooks: h, host: host, polls: make(chan struct{}, n),
		ref: wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(c.ConfigurationName)},
	}
	if s.config == "" {
		s.config = wsman.DefaultConfigurationName
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// open creates the shell and opens the pool.
func (s *Session) open(ctx context.Context, o NewOptions) error {
	cfg := s.poolConfig()
	cfg.MinRunspaces, cfg.MaxRunspaces = o.MinRunspaces, o.MaxRunspaces
	pool, err := psrp.NewClientPool(cfg)
	if err != nil {
		return err
	}
	if err := pool.Open(); err != nil {
		return err
	}
	creation, err := pool.NextPayload(psrp.PoolTarget, s.wc.MaxPayloadSize())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pool = pool
	s.mu.Unlock()
	s.setState(StateOpening, nil)
	so := o.SessionOption
	resp, err := s.wc.CreatePowerShell(ctx, wsman.PowerShellShell{
		ConfigurationName: s.conn.ConfigurationName, ShellID: s.ref.ShellID, Name: s.name,
		IdleTimeOut: so.IdleTimeout, CreationXML: creation, NoProfile: so.NoMachineProfile,
		ProtocolVersion: psrp.DefaultProtocolVersion,
	})
	if err != nil {
		s.setBroken(err)
		return err
	}
	s.ref.ShellID = resp.ShellID()
	s.created = true
	if resp.Shell != nil {
		s.setServerInfo(resp.Shell)
	}
	if err := s.flush(ctx, psrp.PoolTarget, ""); err != nil {
		s.setBroken(err)
		return err
	}
	for {
		s.mu.Lock()
		st := pool.State()
		s.mu.Unlock()
		if st == psrp.RunspacePoolOpened {
			break
		}
		if st.Final() {
			s.setBroken(psrp.ErrPoolBroken)
			return psrp.ErrPoolBroken
		}
		rr, err := s.wc.Receive(ctx, s.ref, &wsman.Receive{})
		if err != nil {
			s.setBroken(err)
			return err
		}
		if rr.TimedOut {
			continue
		}
		s.mu.Lock()
		ev, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, ""))
		s.mu.Unlock()
		if err != nil {
			s.setBroken(err)
			return err
		}
		s.handlePoolEvents(ctx, ev)
	}
	s.afterOpen()
	if so.OutputBufferingMode != BufferingNone {
		// The WSMan Create has no BufferMode: it is sent with the
		// Disconnect (rsp:Disconnect/rsp:BufferMode), as PowerShell does.
		s.mu.Lock()
		s.bufferMode, s.wantBufferMode = so.OutputBufferingMode, so.OutputBufferingMode
		s.mu.Unlock()
	}
	s.setState(StateOpened, nil)
	s.startPoolLoop()
	return nil
}

// poolConfig is the psrp configuration of the session's pool: received
// messages are bounded by MaximumReceivedObjectSize, else by the
// transport's response limit (psrp.DefragmenterOptionsFor).
func (s *Session) poolConfig() psrp.ClientPoolConfig {
	cfg := psrp.ClientPoolConfig{RunspacePoolID: s.instanceID, ResponseLimit: s.wc.MaxResponseBytes()}
	if n := s.conn.SessionOption.MaximumReceivedObjectSize; n > 0 {
		cfg.Defragmenter = psrp.DefragmenterOptions{MaxMessageSize: n, MaxBufferedBytes: n}
	}
	return cfg
}

// maxObject is the largest received object (message) accepted.
func (s *Session) maxObject() int {
	if n := s.conn.SessionOption.MaximumReceivedObjectSize; n > 0 {
		return n
	}
	return psrp.DefragmenterOptionsFor(s.wc.MaxResponseBytes()).MaxMessageSize
}

// afterOpen sizes envelopes and fragments by the server's protocol
// version (see envelopeSizeFor).
func (s *Session) afterOpen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.pool.ServerCapability(); c != nil {
		s.protocol = c.ProtocolVersion
		if n := envelopeSizeFor(c.ProtocolVersion); n > s.wc.MaxEnvelopeSize() {
			s.wc.SetMaxEnvelopeSize(n)
		}
	}
	s.pool.SetMaxFragmentSize(s.wc.MaxPayloadSize())
}

// applyShell records what the server reports about the shell.
func (s *Session) applyShell(sh *wsman.Shell) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh.Name != "" {
		s.name = sh.Name
	}
	if sh.IdleTimeOut > 0 {
		s.idleTimeout = sh.IdleTimeOut
	}
	if sh.MaxIdleTimeOut > 0 {
		s.maxIdleTimeout = sh.MaxIdleTimeOut
	}
	if m := parseBufferMode(sh.BufferMode); m != BufferingNone {
		s.bufferMode = m
	}
}

// Id is the session's local id, unique and increasing in this process
// (PowerShell's Id; a session got again gets a new one).
func (s *Session) Id() int { return s.id } //nolint:revive // PowerShell's name

// Name is the session's name ("" if it has none).
func (s *Session) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// InstanceID is the session's InstanceId: the runspace pool id, which is
// also the WSMan ShellId. It is the same on every client.
func (s *Session) InstanceID() uuid.UUID { return s.instanceID }

// ComputerName is the remote computer.
func (s *Session) ComputerName() string { return s.computer }

// ConfigurationName is the session configuration (endpoint).
func (s *Session) ConfigurationName() string { return s.config }

// ConnectionURI is the WS-Management endpoint.
func (s *Session) ConnectionURI() string { return s.uri }

// SessionOption returns the session's transport options (a copy; the
// Credential is not part of them).
func (s *Session) SessionOption() SessionOption { return s.conn.SessionOption }

// Authentication returns the authentication mechanism the session uses.
func (s *Session) Authentication() Authentication { return s.conn.Authentication }

// WSManSessionID is the wsmv:SessionId of this session's client: a process
// that sets ConnectionOptions.WSManSessionID to it reconnects as the same
// client.
func (s *Session) WSManSessionID() string { return s.wc.SessionID() }

// State is the session's state relative to this client.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Availability is computed as PowerShell does: Available or Busy (running
// commands) when connected to this client; None when disconnected and
// free to connect; Busy when it is connected to another client.
func (s *Session) Availability() Availability {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.availabilityLocked()
}

func (s *Session) availabilityLocked() Availability {
	switch s.state {
	case StateOpened:
		for _, c := range s.cmds {
			if !c.finished {
				return AvailabilityBusy
			}
		}
		return AvailabilityAvailable
	case StateDisconnected:
		if s.otherClient {
			return AvailabilityBusy
		}
	}
	return AvailabilityNone
}

// IdleTimeout is how long the server keeps the session while idle or
// disconnected (0 when not known).
func (s *Session) IdleTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idleTimeout
}

// MaxIdleTimeout is the largest IdleTimeout the server accepts (0 when not
// known).
func (s *Session) MaxIdleTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIdleTimeout
}

// OutputBufferingMode is the session's buffering mode (BufferingNone when
// not known).
func (s *Session) OutputBufferingMode() OutputBufferingMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bufferMode
}

// DisconnectedOn is when the session was disconnected (zero if it is not,
// or it is not known).
func (s *Session) DisconnectedOn() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnectedOn
}

// ExpiresOn is when the server will delete the disconnected session:
// DisconnectedOn plus IdleTimeout (zero when not disconnected).
func (s *Session) ExpiresOn() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiresOn
}

// ProtocolVersion is the server's PSRP protocol version ("" until known).
func (s *Session) ProtocolVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.protocol
}

// Commands returns the session's commands that have not finished, in the
// order they started or were found.
func (s *Session) Commands() []*RunningCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*RunningCommand
	for _, c := range s.cmds {
		if !c.finished {
			out = append(out, c)
		}
	}
	return out
}

// setState changes the state and calls the hook.
func (s *Session) setState(st State, reason error) {
	s.mu.Lock()
	changed := s.state != st
	s.state = st
	if st == StateDisconnected && s.disconnectedOn.IsZero() {
		s.disconnectedOn = time.Now()
	}
	if st == StateOpened {
		s.disconnectedOn, s.expiresOn = time.Time{}, time.Time{}
		if changed {
			s.gen++
		}
	}
	if st == StateDisconnected && s.idleTimeout > 0 {
		s.expiresOn = s.disconnectedOn.Add(s.idleTimeout)
	}
	if reason != nil && (st == StateBroken || st == StateClosed) && s.reason == nil {
		s.reason = reason
	}
	s.mu.Unlock()
	if changed {
		s.log.Debug("session state", "id", s.id, "name", s.Name(), "state", st.String())
	}
	s.notify(reason)
}

// notify calls Hooks.StateChanged when the State or the Availability
// differs from what it last reported. Changes are queued under the session
// lock and delivered in order by one goroutine at a time (a hook that
// calls back into the session only queues more), never under a lock.
func (s *Session) notify(reason error) {
	s.mu.Lock()
	st, av := s.state, s.availabilityLocked()
	if st != s.lastState || av != s.lastAvail || !s.notified {
		s.lastState, s.lastAvail, s.notified = st, av, true
		if s.hooks.StateChanged != nil {
			s.notes = append(s.notes, note{st, av, reason})
		}
	}
	if s.delivering {
		s.mu.Unlock()
		return
	}
	s.delivering = true
	for len(s.notes) > 0 {
		n := s.notes[0]
		s.notes = s.notes[1:]
		s.mu.Unlock()
		s.hooks.StateChanged(s, n.state, n.avail, n.reason)
		s.mu.Lock()
	}
	s.delivering = false
	s.mu.Unlock()
}

// note is a queued state notification.
type note struct {
	state  State
	avail  Availability
	reason error
}

func (s *Session) setBroken(err error) {
	s.mu.Lock()
	if s.pool != nil {
		s.pool.Broken(err)
	}
	s.mu.Unlock()
	s.setState(StateBroken, err)
}

// Close releases the session locally: it stops its goroutines and waits
// for them, and forgets it from its table. An Opened session is removed
// from the server first (what PowerShell does with open sessions when it
// exits); a Disconnected session stays on the server, to be received
// later by name, InstanceId or reattach token. Close is idempotent. ctx
// bounds the removal (through a network outage the transport retries for
// SessionOption.ReconnectTimeout unless ctx ends first).
func (s *Session) Close(ctx context.Context) error {
	var err error
	if s.State() == StateOpened {
		err = s.Remove(ctx)
	}
	s.shutdown(nil)
	return err
}

// Remove deletes the session on the server (Remove-PSSession) and closes
// it. A session connected to another client gives a *SessionError
// matching ErrBusy; one already gone matches ErrExpired (the local
// session is closed anyway).
func (s *Session) Remove(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	if s.state == StateClosed {
		s.mu.Unlock()
		return nil
	}
	held := s.state == StateOpened
	s.mu.Unlock()
	if !held {
		// Not connected here: refuse to delete a session another client
		// holds (the server would let its owner delete it from under that
		// client).
		if sh, err := s.wc.GetShell(ctx, s.ref.ShellID); err == nil {
			s.setServerInfo(sh)
			if sh.State == wsman.ShellStateConnected {
				return s.errorf("remove", ErrBusy, errors.New("the session is connected to another client"))
			}
		}
	}
	s.mu.Lock()
	if s.pool != nil {
		_, _ = s.pool.BeginClose()
	}
	s.mu.Unlock()
	s.setState(StateClosing, nil)
	err := s.wc.Delete(ctx, s.ref)
	if err != nil {
		kind := classify(err)
		if kind == ErrBusy {
			s.setState(StateDisconnected, nil)
			return s.errorf("remove", kind, err)
		}
		s.shutdown(err)
		return s.errorf("remove", kind, err)
	}
	s.shutdown(nil)
	return nil
}

func (s *Session) errorf(op string, kind, err error) error {
	return &SessionError{Op: op, ComputerName: s.computer, Name: s.Name(), InstanceID: upper(s.instanceID), Kind: kind, Err: err}
}

// shutdown ends the goroutines, closes every command's results and marks
// the session Closed.
func (s *Session) shutdown(reason error) {
	s.mu.Lock()
	if s.pool != nil {
		s.pool.Closed()
	}
	s.mu.Unlock()
	s.setState(StateClosed, reason)
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	cmds := append([]*RunningCommand(nil), s.cmds...)
	s.mu.Unlock()
	for _, c := range cmds {
		c.finish(ErrClosed, false)
	}
	s.table.remove(s)
	s.wc.CloseIdleConnections()
}
