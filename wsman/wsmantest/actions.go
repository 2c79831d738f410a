package wsmantest

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/psremoting/psremoting/wsman"
)

// now returns the server clock's time.
func (s *Server) now() time.Time { return s.clock.Now() }

// Bounds on what one client can make the server hold.
const (
	// maxCommandsPerShell bounds the commands of one shell.
	maxCommandsPerShell = 1000
	// maxPendingInput bounds unread stdin bytes of a cmd command and
	// unread pipeline input values of a PowerShell pipeline.
	maxPendingInput = 16 << 20
)

// configFromURI returns the configuration name of a PowerShell resource
// URI served by this server.
func (s *Server) configFromURI(uri string) (string, bool) {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if len(uri) < len(wsman.PowerShellResourcePrefix) ||
		!strings.EqualFold(uri[:len(wsman.PowerShellResourcePrefix)], wsman.PowerShellResourcePrefix) {
		return "", false
	}
	name := uri[len(wsman.PowerShellResourcePrefix):]
	for _, c := range s.opts.ConfigurationNames {
		if strings.EqualFold(c, name) {
			return c, true
		}
	}
	return "", false
}

func isCmdURI(uri string) bool { return strings.EqualFold(uri, wsman.ResourceCmd) }

func (s *Server) create(req *request) *response {
	uri := req.hdr.ResourceURI
	var kind Kind
	var config string
	switch {
	case isCmdURI(uri) && !s.opts.DisableCmdShell:
		kind = KindCmd
	default:
		c, ok := s.configFromURI(uri)
		if !ok {
			return faulted(FaultUnknownResource(uri))
		}
		kind, config = KindPowerShell, c
	}
	body, f := parseBody(req, wsman.ParseShell, "The Create request has no valid rsp:Shell.")
	if f != nil {
		return faulted(f)
	}
	id := strings.ToUpper(strings.TrimSpace(body.ShellID))
	if kind == KindCmd || id == "" {
		id = strings.ToUpper(uuid.NewString())
	} else if _, err := uuid.Parse(id); err != nil {
		return faulted(FaultInvalidParameter())
	}
	now := s.now()
	bufferMode := wsman.BufferModeBlock
	sh := &shell{
		id: id, kind: kind, resourceURI: uri, config: config, name: body.Name,
		owner: req.user, clientIP: req.clientIP, created: now, lastActive: now,
		idleTimeout: s.opts.clampIdle(body.IdleTimeOut), bufferMode: bufferMode,
		state: stateConnected, sessionID: req.hdr.SessionID,
		inputStreams: body.InputStreams, outputStreams: body.OutputStreams,
		locale: req.hdr.Locale, dataLocale: req.hdr.DataLocale,
		workingDir: body.WorkingDirectory, changed: make(chan struct{}),
	}
	if i := strings.IndexByte(sh.resourceURI, '?'); i >= 0 {
		sh.resourceURI = sh.resourceURI[:i]
	}
	if sh.locale == "" {
		sh.locale = "en-US"
	}
	if sh.dataLocale == "" {
		sh.dataLocale = sh.locale
	}
	if o, ok := req.hdr.Option(wsman.OptionNoProfile); ok {
		v := strings.ToLower(o.Value)
		sh.noProfile = v == "true" || v == "1"
	}
	if kind == KindPowerShell {
		if sh.inputStreams == "" {
			sh.inputStreams = "stdin pr"
		}
		if sh.outputStreams == "" {
			sh.outputStreams = "stdout"
		}
	} else {
		if sh.inputStreams == "" {
			sh.inputStreams = "stdin"
		}
		if sh.outputStreams == "" {
			sh.outputStreams = "stdout stderr"
		}
		sh.env = body.Environment
	}
	sh.ctx, sh.cancel = context.WithCancel(s.ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	if _, exists := s.shells[id]; exists {
		sh.cancel()
		return faulted(FaultInvalidParameter())
	}
	n := 0
	for _, x := range s.shells {
		if strings.EqualFold(x.owner, req.user) {
			n++
		}
	}
	if n >= s.opts.MaxShellsPerUser {
		sh.cancel()
		return faulted(FaultQuota())
	}
	s.nextPID++
	sh.processID = s.opts.ProcessID + s.nextPID - 1
	s.shellSeq++ // under s.mu: Creates run concurrently
	sh.seq = s.shellSeq
	if kind == KindPowerShell {
		if f := s.psCreateLocked(sh, req, body.CreationXML); f != nil {
			sh.cancel()
			return faulted(f)
		}
	}
	s.shells[id] = sh
	rc := &wsman.ResourceCreated{
		Address:     s.URL,
		ResourceURI: sh.resourceURI,
		Selectors:   []wsman.Selector{{Name: wsman.SelectorShellID, Value: id}},
	}
	if req.hdr.To != "" {
		rc.Address = req.hdr.To
	}
	return reply(rc.Element(), s.shellElementLocked(sh, viewCreate))
}

// Views of a shell: what Windows puts in the rsp:Shell of each response.
const (
	viewCreate = iota
	viewGet
)

// shellElementLocked builds the rsp:Shell of a CreateResponse, a Get
// response or an Enumerate item, with the fields Windows returns.
func (s *Server) shellElementLocked(sh *shell, view int) *wsman.Element {
	now := s.now()
	el := wsman.NewElement(wsman.NSShell, "Shell")
	add := func(local, v string) { el.AddText(wsman.NSShell, local, v) }
	add("ShellId", sh.id)
	if sh.name != "" && sh.kind == KindPowerShell {
		add("Name", sh.name)
	}
	add("ResourceUri", sh.resourceURI)
	add("Owner", s.ownerName(sh.owner))
	add("ClientIP", sh.clientIP)
	if sh.workingDir != "" {
		add("WorkingDirectory", sh.workingDir)
	}
	if len(sh.env) > 0 {
		env := wsman.NewElement(wsman.NSShell, "Environment")
		for _, v := range sh.env {
			env.Add(wsman.NewElement(wsman.NSShell, "Variable").SetAttr("", "Name", v.Name).SetText(v.Value))
		}
		el.Add(env)
	}
	full := sh.kind == KindPowerShell || view == viewGet
	if full {
		add("ProcessId", strconv.Itoa(sh.processID))
	}
	add("IdleTimeOut", wsman.FormatDuration(sh.idleTimeout))
	add("InputStreams", sh.inputStreams)
	add("OutputStreams", sh.outputStreams)
	if full {
		add("MaxIdleTimeOut", wsman.FormatDuration(s.opts.MaxIdleTimeout))
		add("Locale", sh.locale)
		add("DataLocale", sh.dataLocale)
		add("CompressionMode", "NoCompression")
		if sh.noProfile {
			add("ProfileLoaded", "No")
		} else {
			add("ProfileLoaded", "Yes")
		}
		add("Encoding", "UTF8")
		add("BufferMode", sh.bufferMode)
		add("State", sh.state)
	}
	add("ShellRunTime", wsman.FormatDayTime(now.Sub(sh.created)))
	inactive := now.Sub(sh.lastActive)
	switch {
	case sh.state == stateDisconnected:
		inactive = now.Sub(sh.disconnectedAt)
	case sh.receivers > 0:
		inactive = 0
	}
	add("ShellInactivity", wsman.FormatDayTime(inactive))
	if view == viewGet {
		add("MemoryUsed", strconv.Itoa(40+2*len(sh.commands))+"MB")
		add("ChildProcesses", "0")
	}
	return el
}

func (s *Server) delete(req *request) *response {
	return s.withShell(req, ownShell, func(sh *shell) *response {
		s.removeShellLocked(sh)
		return reply()
	})
}

// removeShellLocked deletes a shell: its commands are cancelled and
// waiters woken.
func (s *Server) removeShellLocked(sh *shell) {
	delete(s.shells, sh.id)
	for _, c := range sh.commands {
		c.cancel()
	}
	sh.cancel()
	sh.broadcast()
}

func (s *Server) get(req *request) *response {
	if strings.EqualFold(req.hdr.ResourceURI, wsman.ResourceConfig) {
		return reply(s.configElement())
	}
	return s.withShell(req, peekShell, func(sh *shell) *response {
		return reply(s.shellElementLocked(sh, viewGet))
	})
}

func (s *Server) command(req *request) *response {
	return shellAction(s, req, connectedShell,
		wsman.ParseCommandLine, "The Command request has no valid rsp:CommandLine.",
		func(sh *shell, cl *wsman.CommandLine) *response {
			id := strings.ToUpper(strings.TrimSpace(cl.CommandID))
			if sh.kind == KindCmd || id == "" {
				id = strings.ToUpper(uuid.NewString())
			}
			if sh.command(id) != nil {
				return faulted(FaultInvalidParameter())
			}
			if len(sh.commands) >= maxCommandsPerShell {
				return faulted(FaultQuota())
			}
			c := &command{id: id, sh: sh, commandLine: cl.Command, created: s.now(), running: true}
			c.ctx, c.cancel = context.WithCancel(sh.ctx)
			if sh.kind == KindPowerShell {
				if f := s.psCommandLocked(sh, c, cl); f != nil {
					c.cancel()
					return faulted(f)
				}
			} else {
				inv := &Invocation{Kind: KindCmd, ShellID: sh.id, CommandID: id, User: sh.owner,
					CommandLine: cl.Command, Arguments: cl.Arguments}
				if o, ok := req.hdr.Option(wsman.OptionSkipCmdShell); ok && strings.EqualFold(o.Value, "true") &&
					!strings.ContainsAny(cl.Command, `\/`) {
					// Without cmd.exe in between, the program must be given by
					// its path: Windows fails the Command itself otherwise.
					c.cancel()
					return faulted(FaultFileNotFound())
				}
				sh.commands = append(sh.commands, c)
				s.startLocked(c, inv)
			}
			return reply(wsman.CommandResponseElement(id))
		})
}

func (s *Server) send(req *request) *response {
	return shellAction(s, req, connectedShell,
		wsman.ParseSend, "The Send request has no valid rsp:Send.",
		func(sh *shell, streams []wsman.Stream) *response {
			for _, st := range streams {
				var c *command
				if st.CommandID != "" {
					if c = sh.command(st.CommandID); c == nil {
						return faulted(FaultCommandNotFound())
					}
				}
				if sh.kind == KindPowerShell {
					if f := s.psSendLocked(sh, c, st); f != nil {
						return faulted(f)
					}
					continue
				}
				if c == nil {
					return faulted(FaultInvalidParameter())
				}
				if len(c.stdin)+len(st.Data) > maxPendingInput {
					return faulted(FaultQuota())
				}
				c.stdin = append(c.stdin, st.Data...)
				if st.End {
					c.stdinEOF = true
				}
			}
			sh.broadcast()
			return reply(wsman.EmptyResponseElement(wsman.ActionSend))
		})
}

func (s *Server) signal(req *request) *response {
	return shellAction(s, req, connectedShell,
		wsman.ParseSignal, "The Signal request has no valid rsp:Signal.",
		func(sh *shell, sig *wsman.Signal) *response {
			if sig.CommandID != "" {
				c := sh.command(sig.CommandID)
				if c == nil {
					return faulted(FaultCommandNotFound())
				}
				signalCommandLocked(sh, c, sig.Code)
			}
			return reply(wsman.EmptyResponseElement(wsman.ActionSignal))
		})
}

// powerShellStopAbsolute is PowerShell's stop code in absolute form.
const powerShellStopAbsolute = "http://schemas.microsoft.com/" + wsman.SignalPowerShellStop

// signalCommandLocked applies a Signal's code to a command: a stop stops
// it; terminate and any other code close and free it (the next Receive for
// it gets FaultCommandNotFound).
//
// On a PowerShell shell the only stop is PowerShell's own code, compared
// exactly as the Windows server plugin compares it (ordinally):
// wsman.SignalPowerShellStop, "powershell/signal/crtl_c" with its "crtl"
// misspelling (MS-PSRP 3.1.5.3.9), also accepted in the absolute form
// "http://schemas.microsoft.com/powershell/signal/crtl_c". Any variant
// ("ctrl_c", other case, the WinRS ctrl_c of MS-WSMV 2.2.5.6 that pypsrp
// sends in test_psrp_nested_command) closes the command, as on Windows. On
// a cmd shell the WinRS ctrl_c and ctrl_break codes stop the process.
func signalCommandLocked(sh *shell, c *command, code string) {
	var isStop bool
	if sh.kind == KindCmd {
		code = strings.ToLower(code)
		isStop = strings.HasSuffix(code, "signal/ctrl_c") || strings.HasSuffix(code, "signal/ctrl_break")
	} else {
		isStop = code == wsman.SignalPowerShellStop || code == powerShellStopAbsolute
	}
	if isStop {
		if c.running {
			c.stopped = true
			if sh.ps != nil && c.ps != nil {
				if pl := sh.ps.pool.Pipeline(c.ps.pid); pl != nil {
					_ = pl.BeginStop()
				}
			}
		}
		c.cancel()
	} else {
		// terminate (and, on PowerShell shells, any other code):
		// close the command and free it.
		if c.running {
			c.stopped = true
		}
		c.cancel()
		sh.removeCommand(c)
		if sh.ps != nil && c.ps != nil {
			sh.ps.pool.RemovePipeline(c.ps.pid)
		}
	}
	sh.broadcast()
}

func (s *Server) disconnect(req *request) *response {
	return shellAction(s, req, ownShell,
		wsman.ParseDisconnect, "The Disconnect request is not valid.",
		func(sh *shell, d *wsman.Disconnect) *response {
			if sh.state == stateDisconnected {
				return faulted(FaultInvalidState("Disconnect"))
			}
			// Connected: only another client session can make this fail.
			if f := requireConnectedLocked(sh, req); f != nil {
				return faulted(f)
			}
			if d.IdleTimeOut > 0 {
				sh.idleTimeout = s.opts.clampIdle(d.IdleTimeOut)
			}
			if f := applyBufferMode(sh, d.BufferMode); f != nil {
				return faulted(f)
			}
			sh.state = stateDisconnected
			sh.disconnectedAt = s.now()
			if req.hdr.SessionID != "" {
				sh.sessionID = req.hdr.SessionID
			}
			sh.broadcast()
			return reply()
		})
}

func applyBufferMode(sh *shell, mode string) *Fault {
	switch {
	case mode == "":
	case strings.EqualFold(mode, wsman.BufferModeBlock):
		sh.bufferMode = wsman.BufferModeBlock
	case strings.EqualFold(mode, wsman.BufferModeDrop):
		sh.bufferMode = wsman.BufferModeDrop
	default:
		return FaultInvalidParameter()
	}
	return nil
}

// markConnectedLocked records that the shell is connected again (after a
// Reconnect or Connect) and wakes its waiters.
func (s *Server) markConnectedLocked(sh *shell) {
	sh.state = stateConnected
	sh.lastActive = s.now()
	sh.broadcast()
}

func (s *Server) reconnect(req *request) *response {
	return shellAction(s, req, ownShell,
		wsman.ParseReconnect, "The Reconnect request is not valid.",
		func(sh *shell, r *wsman.Reconnect) *response {
			if r.CommandID != "" {
				// Command reconnect: the command must exist; its buffered
				// output is delivered to the next Receive.
				if f := requireCommandLocked(sh, req, r.CommandID); f != nil {
					return faulted(f)
				}
				return reply()
			}
			if sh.state == stateConnected {
				if sameSession(req.hdr.SessionID, sh.sessionID) {
					return reply() // already connected to this client: ignored
				}
				return faulted(FaultShellBusy(sh.id))
			}
			if !sameSession(req.hdr.SessionID, sh.sessionID) {
				return faulted(FaultSessionMismatch())
			}
			if f := applyBufferMode(sh, r.BufferMode); f != nil {
				return faulted(f)
			}
			s.markConnectedLocked(sh)
			return reply()
		})
}

func (s *Server) connect(req *request) *response {
	return shellAction(s, req, ownShell,
		wsman.ParseConnect, "The Connect request is not valid.",
		func(sh *shell, cn *wsman.Connect) *response {
			if cn.CommandID != "" {
				if f := requireCommandLocked(sh, req, cn.CommandID); f != nil {
					return faulted(f)
				}
				return reply((&wsman.ConnectResponse{}).Element())
			}
			if sh.state == stateConnected {
				return faulted(FaultShellBusy(sh.id))
			}
			var respXML []byte
			if sh.kind == KindPowerShell {
				var f *Fault
				if respXML, f = s.psConnectLocked(sh, req, cn.ConnectXML); f != nil {
					return faulted(f)
				}
			}
			sh.sessionID = req.hdr.SessionID
			s.markConnectedLocked(sh)
			cr := &wsman.ConnectResponse{InputStreams: sh.inputStreams, OutputStreams: sh.outputStreams, ConnectResponseXML: respXML}
			return reply(cr.Element())
		})
}
