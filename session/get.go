package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/wildcard"
	"github.com/psremoting/psremoting/wsman"
)

// GetOptions are the parameters of Get (Get-PSSession -ComputerName /
// -ConnectionUri).
type GetOptions struct {
	// ConnectionOptions name one computer (ComputerName or ConnectionURI)
	// and how to reach it. Its ConfigurationName does not filter (use
	// ConfigurationName below), as Get-PSSession lists every endpoint.
	ConnectionOptions
	// ComputerNames adds more computers, reached with the same options
	// (Get-PSSession -ComputerName A, B).
	ComputerNames []string
	// Name keeps sessions whose name matches (PowerShell wildcards,
	// case-insensitive); "" keeps all.
	Name string
	// InstanceID keeps only this session (uuid.Nil: all).
	InstanceID uuid.UUID
	// ConfigurationName keeps sessions of matching configurations
	// (wildcards); "" keeps all.
	ConfigurationName string
	// State keeps sessions in this state relative to this client (a
	// session of another process is Disconnected here); StateFilterAll
	// keeps all.
	State StateFilter
	// ThrottleLimit bounds the computers queried at once
	// (DefaultThrottleLimit when zero).
	ThrottleLimit int
	// Table records the sessions got (nil: DefaultTable).
	Table *Table
	// Hooks and Host are given to the sessions got.
	Hooks Hooks
	// Host answers host calls of the sessions got.
	Host HostHandler
}

// StateFilter is Get-PSSession's -State.
type StateFilter int

// State filters.
const (
	// StateFilterAll keeps every session.
	StateFilterAll StateFilter = iota
	// StateFilterOpened keeps Opened sessions.
	StateFilterOpened
	// StateFilterDisconnected keeps Disconnected sessions.
	StateFilterDisconnected
	// StateFilterClosed keeps Closed sessions.
	StateFilterClosed
	// StateFilterBroken keeps Broken sessions.
	StateFilterBroken
)

func (f StateFilter) keep(s State) bool {
	switch f {
	case StateFilterOpened:
		return s == StateOpened
	case StateFilterDisconnected:
		return s == StateDisconnected
	case StateFilterClosed:
		return s == StateClosed
	case StateFilterBroken:
		return s == StateBroken
	}
	return true
}

// Get lists the PowerShell sessions of the user on one or more computers
// (Get-PSSession -ComputerName): every enumerated field is kept (see
// Session.ServerInfo), Enumerate paging is followed, and the computers are
// queried ThrottleLimit at a time. A session this program already has
// connected is returned as that same object; others are new Session
// values, Disconnected relative to this client, with Availability None (free
// to connect) or Busy (connected to another client). Each is recorded in
// the table. Errors of some computers do not stop the others: the sessions
// found are returned with the errors joined.
func Get(ctx context.Context, o GetOptions) ([]*Session, error) {
	targets := []ConnectionOptions{o.ConnectionOptions}
	for _, cn := range o.ComputerNames {
		c := o.ConnectionOptions
		c.ComputerName, c.ConnectionURI = cn, ""
		targets = append(targets, c)
	}
	if o.ComputerName == "" && o.ConnectionURI == "" {
		targets = targets[1:]
	}
	if len(targets) == 0 {
		return nil, &OptionError{Field: "ComputerName", Msg: "no computer given"}
	}
	var nameM, confM wildcard.Pattern
	if o.Name != "" {
		w, err := wildcard.Compile(o.Name)
		if err != nil {
			return nil, &OptionError{Field: "Name", Msg: err.Error()}
		}
		nameM = w
	}
	if o.ConfigurationName != "" {
		w, err := wildcard.Compile(o.ConfigurationName)
		if err != nil {
			return nil, &OptionError{Field: "ConfigurationName", Msg: err.Error()}
		}
		confM = w
	}
	if o.Table == nil {
		o.Table = DefaultTable
	}
	limit := o.ThrottleLimit
	if limit <= 0 {
		limit = DefaultThrottleLimit
	}
	results := make([][]*Session, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, c := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			results[i], errs[i] = getOne(ctx, c, &o, nameM, confM)
		}()
	}
	wg.Wait()
	var out []*Session
	for _, r := range results {
		out = append(out, r...)
	}
	return out, errors.Join(errs...)
}

func getOne(ctx context.Context, c ConnectionOptions, o *GetOptions, nameM, confM wildcard.Pattern) ([]*Session, error) {
	wc, err := c.newClient()
	if err != nil {
		return nil, err
	}
	defer wc.CloseIdleConnections()
	shells, err := wc.EnumerateShells(ctx)
	if err != nil {
		return nil, &SessionError{Op: "get", ComputerName: c.computerName(), Err: err}
	}
	var out []*Session
	for _, sh := range shells {
		if !sh.IsPowerShell() {
			continue
		}
		id, err := uuid.Parse(sh.ShellID)
		if err != nil {
			continue // not a runspace pool this package can connect to
		}
		config := strings.TrimPrefix(sh.ResourceURI, wsman.PowerShellResourcePrefix)
		if nameM != nil && !nameM.Match(sh.Name) || confM != nil && !confM.Match(config) ||
			o.InstanceID != uuid.Nil && o.InstanceID != id {
			continue
		}
		s := localSession(o.Table, id)
		if s == nil {
			cc := c
			cc.ConfigurationName = config
			if s, err = fromServer(cc, sh, id, o); err != nil {
				return out, err
			}
		} else {
			s.setServerInfo(sh)
		}
		if !o.State.keep(s.State()) {
			continue
		}
		o.Table.add(s)
		out = append(out, s)
	}
	return out, nil
}

// localSession returns a session of the table connected by this program
// to the shell id.
func localSession(t *Table, id uuid.UUID) *Session {
	for _, s := range t.ByInstanceID(id) {
		s.mu.Lock()
		mine := s.pool != nil && s.state != StateClosed && s.state != StateBroken
		s.mu.Unlock()
		if mine {
			return s
		}
	}
	return nil
}

// fromServer makes a Session for a shell found on the server.
func fromServer(c ConnectionOptions, sh *wsman.Shell, id uuid.UUID, o *GetOptions) (*Session, error) {
	s, err := newSession(c, o.Table, o.Hooks, o.Host)
	if err != nil {
		return nil, err
	}
	s.instanceID = id
	s.ref = wsman.ShellRef{ResourceURI: sh.ResourceURI, ShellID: sh.ShellID}
	s.name = sh.Name
	s.state = StateDisconnected
	s.setServerInfo(sh)
	return s, nil
}

// setServerInfo records an enumerated or got shell.
func (s *Session) setServerInfo(sh *wsman.Shell) {
	s.applyShell(sh)
	defer s.notify(nil) // Availability follows the server's State
	if f := s.hooks.ServerInfo; f != nil {
		defer func() { cp := *sh; f(s, &cp) }()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *sh
	s.server = &cp
	if s.pool == nil || s.state == StateDisconnected {
		s.otherClient = sh.State == wsman.ShellStateConnected
		if sh.State == wsman.ShellStateDisconnected {
			s.disconnectedOn = time.Now().Add(-sh.ShellInactivity)
			if s.idleTimeout > 0 {
				s.expiresOn = s.disconnectedOn.Add(s.idleTimeout)
			}
		}
	}
}

// ServerInfo returns what the server last reported about the session's
// shell (Get's Enumerate item, or the Create/Get response): Owner,
// ClientIP, ProcessId, IdleTimeOut, MaxIdleTimeOut, BufferMode, State,
// ShellRunTime, ShellInactivity, ... nil if nothing was reported. The
// value is a copy.
func (s *Session) ServerInfo() *wsman.Shell {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server == nil {
		return nil
	}
	cp := *s.server
	return &cp
}

// Refresh asks the server for the shell's current description (WSMan Get)
// and updates ServerInfo, IdleTimeout, ExpiresOn and Availability.
func (s *Session) Refresh(ctx context.Context) error {
	sh, err := s.wc.GetShell(ctx, s.ref.ShellID)
	if err != nil {
		return s.errorf("get", classify(err), err)
	}
	s.setServerInfo(sh)
	return nil
}
