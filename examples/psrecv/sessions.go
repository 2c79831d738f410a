package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

// sessionJSON is a session as "get -json" and the other session commands
// print it.
type sessionJSON struct {
	ID                  int        `json:"id"`
	Name                string     `json:"name"`
	InstanceID          string     `json:"instanceId"`
	ComputerName        string     `json:"computerName"`
	State               string     `json:"state"`
	ConfigurationName   string     `json:"configurationName"`
	Availability        string     `json:"availability"`
	ServerState         string     `json:"serverState,omitempty"`
	Owner               string     `json:"owner,omitempty"`
	ClientIP            string     `json:"clientIP,omitempty"`
	IdleTimeout         string     `json:"idleTimeout,omitempty"`
	OutputBufferingMode string     `json:"outputBufferingMode,omitempty"`
	DisconnectedOn      *time.Time `json:"disconnectedOn,omitempty"`
	ExpiresOn           *time.Time `json:"expiresOn,omitempty"`
}

func toSessionJSON(s *session.Session) sessionJSON {
	j := sessionJSON{
		ID: s.Id(), Name: s.Name(), InstanceID: strings.ToUpper(s.InstanceID().String()),
		ComputerName: s.ComputerName(), State: s.State().String(), ConfigurationName: s.ConfigurationName(),
		Availability: s.Availability().String(),
	}
	if info := s.ServerInfo(); info != nil {
		j.ServerState, j.Owner, j.ClientIP = info.State, info.Owner, info.ClientIP
	}
	if d := s.IdleTimeout(); d > 0 {
		j.IdleTimeout = d.String()
	}
	if m := s.OutputBufferingMode(); m != session.BufferingNone {
		j.OutputBufferingMode = m.String()
	}
	if t := s.DisconnectedOn(); !t.IsZero() {
		j.DisconnectedOn = &t
	}
	if t := s.ExpiresOn(); !t.IsZero() {
		j.ExpiresOn = &t
	}
	return j
}

// printSessions writes sessions as Get-PSSession's table, or JSON lines.
func printSessions(w io.Writer, jsonOut bool, ss []*session.Session) error {
	return printList(w, jsonOut, ss, toSessionJSON,
		[]string{"Id", "Name", "ComputerName", "ComputerType", "State", "ConfigurationName", "Availability"},
		func(s *session.Session) []string {
			return []string{strconv.Itoa(s.Id()), s.Name(), s.ComputerName(), "RemoteMachine", s.State().String(),
				s.ConfigurationName(), s.Availability().String()}
		})
}

// selector is -name / -instance-id.
type selector struct {
	name, instanceID string
}

func (s *selector) register(fs *flag.FlagSet) {
	fs.StringVar(&s.name, "name", "", "session name (-Name)")
	fs.StringVar(&s.instanceID, "instance-id", "", "session InstanceId, the shell id (-InstanceId)")
}

// check validates the selector; required says one must be given.
func (s *selector) check(required bool) (uuid.UUID, error) {
	if s.name != "" && s.instanceID != "" {
		return uuid.Nil, flagexit.Usagef("give -name or -instance-id, not both")
	}
	if s.instanceID != "" {
		id, err := uuid.Parse(s.instanceID)
		if err != nil {
			return uuid.Nil, flagexit.Usagef("-instance-id: %v", err)
		}
		return id, nil
	}
	if required && s.name == "" {
		return uuid.Nil, flagexit.Usagef("give -name or -instance-id")
	}
	return uuid.Nil, nil
}

// selectSessions finds the sessions sel names: on the computers of
// -computer / -uri (any client's sessions, found with Get), else in the
// token store (sessions psrecv disconnected). The store is returned too.
func selectSessions(ctx context.Context, e *env, cf *connFlags, sel *selector, table *session.Table) ([]*session.Session, *store, error) {
	id, err := sel.check(true)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	if cf.given() {
		var found []*session.Session
		var errs []error
		for _, target := range cf.targets() {
			conn, err := cf.options(e, target)
			if err != nil {
				return nil, nil, err
			}
			ss, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn, Name: sel.name, InstanceID: id, Table: table})
			found = append(found, ss...)
			if err != nil {
				errs = append(errs, err)
			}
		}
		if len(found) == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("no session %s on %s: %w", sel, cf.where(), session.ErrNotFound))
		}
		return found, st, errors.Join(errs...)
	}
	entries := st.find(sel.name, strings.ToUpper(id.String()))
	if id == uuid.Nil {
		entries = st.find(sel.name, "")
	}
	if len(entries) == 0 {
		return nil, st, fmt.Errorf("no session %s in the token store (name the computer with -computer or -uri to look on the server): %w", sel, errNotFound)
	}
	conn, err := cf.options(e, "")
	if err != nil {
		return nil, nil, err
	}
	var out []*session.Session
	for _, en := range entries {
		s, err := en.session(conn, table)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	return out, st, nil
}

func (s *selector) String() string {
	if s.instanceID != "" {
		return "with InstanceId " + s.instanceID
	}
	return strconv.Quote(s.name)
}

// targets returns the computers of -computer, or "" for -uri.
func (c *connFlags) targets() []string {
	if c.uri != "" {
		return []string{""}
	}
	return c.computers()
}

// where names the computers for messages.
func (c *connFlags) where() string {
	if c.uri != "" {
		return c.uri
	}
	return c.computer
}

// checkTarget rejects -computer with -uri.
func (c *connFlags) checkTarget(required bool) error {
	if c.computer != "" && c.uri != "" {
		return flagexit.Usagef("give -computer or -uri, not both")
	}
	if required && !c.given() {
		return flagexit.Usagef("give -computer or -uri")
	}
	return nil
}

// sessionFlags are the flags of the commands that act on sessions already
// there (connect, disconnect, remove, receive): where to look (-computer or
// -uri, else the token store), which sessions (-name or -instance-id), and
// -whatif and -confirm.
type sessionFlags struct {
	cf  connFlags
	sel selector
	sp  shouldProcess
}

func (f *sessionFlags) register(fs *flag.FlagSet, e *env) {
	f.cf.register(fs, e, false)
	f.sel.register(fs)
	f.sp.register(fs)
}

// parse parses args with fs (flagexit.Parse) and rejects -computer with
// -uri.
func (f *sessionFlags) parse(fs *flag.FlagSet, args []string) error {
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	return f.cf.checkTarget(false)
}

// each selects f's sessions (selectSessions) and calls act on each one
// that -whatif and -confirm let operation act on, in turn. It returns the
// token store and the errors, the selection's first; when the selection
// found no session and failed, its error alone is returned, as fatal.
func (f *sessionFlags) each(ctx context.Context, e *env, operation string, act func(*session.Session, *store) error) (st *store, errs []error, fatal error) {
	ss, st, err := selectSessions(ctx, e, &f.cf, &f.sel, &session.Table{})
	if err != nil && len(ss) == 0 {
		return nil, nil, err
	}
	errs = []error{err}
	for _, s := range ss {
		if f.sp.ok(e, operation, sessionTarget(s)) {
			errs = append(errs, act(s, st))
		}
	}
	return st, errs, nil
}

// shouldProcess is -whatif and -confirm for one action: it prints the
// WhatIf line (and returns false), or asks on stderr and reads the answer
// from stdin (anything but y or yes, or no answer, declines).
type shouldProcess struct {
	whatIf, confirm bool
	in              *bufio.Reader
}

func (sp *shouldProcess) register(fs *flag.FlagSet) {
	fs.BoolVar(&sp.whatIf, "whatif", false, "say what would be done, change nothing (-WhatIf)")
	fs.BoolVar(&sp.confirm, "confirm", false, "ask before each session; the answer is read from stdin (-Confirm)")
}

func (sp *shouldProcess) ok(e *env, operation, target string) bool {
	if sp.whatIf {
		fmt.Fprintf(e.stdout, "What if: Performing the operation %q on target %q.\n", operation, target)
		return false
	}
	if !sp.confirm {
		return true
	}
	if sp.in == nil {
		sp.in = bufio.NewReader(e.stdin)
	}
	fmt.Fprintf(e.stderr, "\nConfirm\nAre you sure you want to perform this action?\nPerforming the operation %q on target %q.\n[Y] Yes  [N] No  (default is \"N\"): ", operation, target)
	line, _ := sp.in.ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	if line == "" || !strings.HasSuffix(line, "\n") {
		fmt.Fprintln(e.stderr)
	}
	return answer == "y" || answer == "yes"
}

// sessionTarget describes a session as PowerShell's ShouldProcess does.
func sessionTarget(s *session.Session) string {
	return fmt.Sprintf("Name: %s, ComputerName: %s", s.Name(), s.ComputerName())
}

func runGet(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "get", "-computer HOST[,HOST...] | -uri URI [flags]",
		"Lists the user's PowerShell sessions on the computers, as Get-PSSession -ComputerName does:\n"+
			"sessions of any client, this one or another (Availability Busy: connected to another client).")
	var cf connFlags
	cf.register(fs, e, true)
	name := fs.String("name", "", "keep sessions whose name matches (wildcards * ? [a-z]) (-Name)")
	instanceID := fs.String("instance-id", "", "keep only the session with this InstanceId (-InstanceId)")
	stateFilter := fs.String("state", "all", "keep sessions in this state here: all, opened, disconnected, broken, closed (-State)")
	throttle := fs.Int("throttle-limit", 0, "computers queried at once (default 32) (-ThrottleLimit)")
	jsonOut := fs.Bool("json", false, "print one JSON object per session")
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	if err := cf.checkTarget(true); err != nil {
		return err
	}
	id, err := (&selector{instanceID: *instanceID}).check(false)
	if err != nil {
		return err
	}
	state, ok := map[string]session.StateFilter{"all": session.StateFilterAll, "opened": session.StateFilterOpened,
		"disconnected": session.StateFilterDisconnected, "broken": session.StateFilterBroken, "closed": session.StateFilterClosed}[strings.ToLower(*stateFilter)]
	if !ok {
		return flagexit.Usagef("unknown -state %q", *stateFilter)
	}
	targets := cf.targets()
	conn, err := cf.options(e, targets[0])
	if err != nil {
		return err
	}
	o := session.GetOptions{ConnectionOptions: conn, Name: *name, InstanceID: id, State: state,
		ConfigurationName: cf.configurationName, ThrottleLimit: *throttle, Table: &session.Table{}}
	o.ConnectionOptions.ConfigurationName = ""
	if len(targets) > 1 {
		o.ComputerNames = targets[1:]
	}
	ss, getErr := session.Get(ctx, o)
	if err := printSessions(e.stdout, *jsonOut, ss); err != nil {
		return err
	}
	return getErr
}

func runConnect(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "connect", "(-name NAME | -instance-id ID) [-computer HOST | -uri URI] [flags]",
		"Connects a disconnected session, as Connect-PSSession does: suspended commands resume.\n"+
			"The connection belongs to this process, so when psrecv exits the session is disconnected\n"+
			"again (its commands keep running) and its reattach token saved for receive.\n"+
			"Without -computer or -uri the session is looked up in the token store.")
	var f sessionFlags
	f.register(fs, e)
	jsonOut := fs.Bool("json", false, "print one JSON object per session")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	var done []*session.Session
	st, errs, err := f.each(ctx, e, "Connect-PSSession", func(s *session.Session, st *store) error {
		if err := s.Connect(ctx); err != nil {
			return errors.Join(err, st.forgetExpired(err))
		}
		done = append(done, s)
		return nil
	})
	if err != nil {
		return err
	}
	if err := printSessions(e.stdout, *jsonOut, done); err != nil {
		errs = append(errs, err)
	}
	// Leave them disconnected (Close would delete an opened session).
	for _, s := range done {
		if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
			errs = append(errs, err)
			continue
		}
		st.put(s, nil)
		_ = s.Close(ctx)
	}
	if len(done) > 0 {
		errs = append(errs, st.save())
	}
	return errors.Join(errs...)
}

func runDisconnect(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "disconnect", "(-name NAME | -instance-id ID) [-computer HOST | -uri URI] [flags]",
		"Disconnects a session, as Disconnect-PSSession does, with a new idle timeout or output\n"+
			"buffering mode: a disconnected session is connected first, then disconnected with them.\n"+
			"Its reattach token is saved in the token store for receive.\n"+
			"Without -computer or -uri the session is looked up in the token store.")
	var f sessionFlags
	f.register(fs, e)
	idle := fs.Duration("idle-timeout", 0, "how long the server keeps the disconnected session, at least 60s (default: unchanged) (-IdleTimeoutSec)")
	mode := fs.String("output-buffering-mode", "", "block or drop (default: unchanged) (-OutputBufferingMode)")
	jsonOut := fs.Bool("json", false, "print one JSON object per session")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	bm, err := parseBufferingMode(*mode)
	if err != nil {
		return err
	}
	if *idle != 0 && *idle < time.Minute {
		return flagexit.Usagef("-idle-timeout must be at least 60s")
	}
	var done []*session.Session
	st, errs, err := f.each(ctx, e, "Disconnect-PSSession", func(s *session.Session, st *store) error {
		if s.State() != session.StateOpened {
			if err := s.Connect(ctx); err != nil {
				return errors.Join(err, st.forgetExpired(err))
			}
		}
		if err := s.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: *idle, OutputBufferingMode: bm}); err != nil {
			_ = s.Close(ctx)
			return err
		}
		st.put(s, nil)
		done = append(done, s)
		return nil
	})
	if err != nil {
		return err
	}
	if err := printSessions(e.stdout, *jsonOut, done); err != nil {
		errs = append(errs, err)
	}
	for _, s := range done {
		_ = s.Close(ctx)
	}
	if len(done) > 0 {
		errs = append(errs, st.save())
	}
	return errors.Join(errs...)
}

func parseBufferingMode(s string) (session.OutputBufferingMode, error) {
	switch strings.ToLower(s) {
	case "":
		return session.BufferingNone, nil
	case "block":
		return session.BufferingBlock, nil
	case "drop":
		return session.BufferingDrop, nil
	}
	return 0, flagexit.Usagef("unknown -output-buffering-mode %q (want block or drop)", s)
}

func runRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "remove", "(-name NAME | -instance-id ID) [-computer HOST | -uri URI] [flags]",
		"Deletes sessions on the server, as Remove-PSSession does, and forgets their tokens.\n"+
			"Without -computer or -uri the session is looked up in the token store.")
	var f sessionFlags
	f.register(fs, e)
	if err := f.parse(fs, args); err != nil {
		return err
	}
	changed := false
	st, errs, err := f.each(ctx, e, "Remove-PSSession", func(s *session.Session, st *store) error {
		err := s.Remove(ctx)
		if err == nil || errors.Is(err, session.ErrExpired) {
			st.drop(strings.ToUpper(s.InstanceID().String()))
			changed = true
		}
		return err
	})
	if err != nil {
		return err
	}
	if changed {
		errs = append(errs, st.save())
	}
	return errors.Join(errs...)
}
