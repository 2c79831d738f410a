package wsmantest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
)

// psShell is the PSRP state of a PowerShell shell: a psrp.ServerPool. Its
// output queues are the shell's output buffer: Receives take from them
// directly, so Drop can discard whole messages (ServerPool.DropOldest).
type psShell struct {
	pool *psrp.ServerPool
	// out is the pool's output not received yet (see psTakeLocked).
	out psOutbox
}

// psCommand is the PSRP state of one pipeline.
type psCommand struct {
	pid      uuid.UUID // the PID of its messages (the CommandId, as the client encoded it)
	started  bool
	input    []clixml.Value
	inputEOF bool
	// host calls waiting for their response, by call id.
	responses map[int64]*psrp.HostResponse
	nextCall  int64
	// out is the pipeline's output not received yet (see psDrainLocked).
	out psOutbox
}

// errPSRP wraps PSRP failures answered with an InternalError fault.
func faultPSRP(err error) *Fault {
	return &Fault{Receiver: true, Subcode: "w:InternalError",
		Reason: "The WS-Management service cannot process the request. The PowerShell data is not valid: " + err.Error() + " ",
		Code:   0x80338000 + 0x1A4} // ERROR_WSMAN_PLUGIN_FAILED-like; Windows reports plugin errors this way
}

func (s *Server) psCreateLocked(sh *shell, req *request, creationXML []byte) *Fault {
	pool := psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{MaxFragmentSize: s.fragmentSize()})
	sh.ps = &psShell{pool: pool}
	if len(creationXML) == 0 {
		return FaultSchemaValidation("The Create request for a PowerShell shell has no creationXml.")
	}
	ev, err := pool.ReceiveData(creationXML)
	if f := s.psEventsLocked(sh, nil, ev); f != nil {
		return f
	}
	if err != nil {
		return faultPSRP(err)
	}
	return nil
}

func (s *Server) psCommandLocked(sh *shell, c *command, cl *wsman.CommandLine) *Fault {
	c.ps = &psCommand{responses: map[int64]*psrp.HostResponse{}}
	sh.commands = append(sh.commands, c)
	var payload []byte
	for _, a := range cl.Arguments {
		b, err := decodeB64(a)
		if err != nil {
			sh.removeCommand(c)
			return FaultSchemaValidation("rsp:Arguments is not base64.")
		}
		payload = append(payload, b...)
	}
	ev, err := sh.ps.pool.ReceiveData(payload)
	f := s.psEventsLocked(sh, c, ev)
	if f == nil && err != nil {
		f = faultPSRP(err)
	}
	if f != nil {
		sh.removeCommand(c)
		return f
	}
	return nil
}

func (s *Server) psSendLocked(sh *shell, c *command, st wsman.Stream) *Fault {
	ev, err := sh.ps.pool.ReceiveData(st.Data)
	if f := s.psEventsLocked(sh, c, ev); f != nil {
		return f
	}
	var se *psrp.StateError
	if errors.As(err, &se) && se.Pipeline != uuid.Nil && se.PipelineState.Terminal() &&
		(se.Message == psrp.MessagePipelineInput || se.Message == psrp.MessageEndOfPipelineInput ||
			se.Message == psrp.MessagePipelineHostResponse) {
		// Input for a pipeline that already finished (its script did not
		// read all of it) is discarded, as the PowerShell server does.
		return nil
	}
	if err != nil {
		return faultPSRP(err)
	}
	return nil
}

func (s *Server) psConnectLocked(sh *shell, req *request, connectXML []byte) ([]byte, *Fault) {
	pool := sh.ps.pool
	if _, err := pool.ReceiveConnect(connectXML); err != nil {
		return nil, faultPSRP(err)
	}
	resp, err := pool.ConnectResponse()
	if err != nil {
		return nil, faultPSRP(err)
	}
	// The new client's first pool Receive gets APPLICATION_PRIVATE_DATA
	// when the pool has pipelines, else RUNSPACEPOOL_STATE Opened again,
	// as Windows does.
	if err := pool.SendConnectAnnouncement(s.applicationPrivateData()); err != nil {
		return nil, faultPSRP(err)
	}
	return resp, nil
}

// psEventsLocked acts on the events of client PSRP data. c is the command
// the data came with (Command Arguments or a Send with a CommandId), nil
// for pool data.
func (s *Server) psEventsLocked(sh *shell, c *command, events []psrp.Event) *Fault {
	pool := sh.ps.pool
	for _, e := range events {
		var err error
		switch ev := e.(type) {
		case psrp.InitRunspacePoolReceived:
			if err = pool.SendApplicationPrivateData(s.applicationPrivateData()); err == nil {
				err = pool.SetState(psrp.RunspacePoolOpened, nil)
			}
		case psrp.CreatePipelineReceived:
			err = s.psStartLocked(sh, c, ev.Pipeline, ev.Message)
		case psrp.GetCommandMetadataReceived:
			if c != nil {
				c.ps.pid = ev.Pipeline
				c.ps.started = true
				c.running = false
				c.finished = true
			}
			err = s.psCommandMetadataLocked(pool, ev)
		case psrp.PipelineInputReceived:
			if pc := s.psCommandFor(sh, c, ev.Pipeline); pc != nil {
				v, derr := clixml.Unmarshal(ev.Message.Data)
				if derr != nil {
					return faultPSRP(derr)
				}
				if len(pc.ps.input) >= maxPendingInput/16 {
					return FaultQuota()
				}
				pc.ps.input = append(pc.ps.input, v)
			}
		case psrp.EndOfPipelineInputReceived:
			if pc := s.psCommandFor(sh, c, ev.Pipeline); pc != nil {
				pc.ps.inputEOF = true
			}
		case psrp.HostResponseReceived:
			if pc := s.psCommandFor(sh, c, ev.Pipeline); pc != nil {
				v, derr := clixml.Unmarshal(ev.Message.Data)
				if derr != nil {
					return faultPSRP(derr)
				}
				hr, derr := psrp.DecodeHostResponse(v)
				if derr != nil {
					return faultPSRP(derr)
				}
				pc.ps.responses[ev.CallID] = hr
			}
		case psrp.SetRunspacesReceived:
			err = pool.SendRunspaceAvailability(ev.CallID, true)
		case psrp.GetAvailableRunspacesReceived:
			_, maxRS := pool.Runspaces()
			busy := 0
			for _, x := range sh.commands {
				if x.running {
					busy++
				}
			}
			err = pool.SendAvailableRunspaces(ev.CallID, int64(maxRS)-int64(busy))
		case psrp.ResetRunspaceStateReceived:
			err = pool.SendRunspaceAvailability(ev.CallID, true)
		case psrp.PublicKeyReceived:
			err = pool.SendSessionKey(nil)
		case psrp.MessageIgnored:
			s.logger.Debug("wsmantest: runspace pool message dropped, as Windows does", "type", ev.Type.String(), "shell", sh.id)
		}
		if err != nil {
			return faultPSRP(err)
		}
	}
	sh.broadcast()
	return nil
}

// psCommandMetadataLocked answers GET_COMMAND_METADATA as Windows does: a
// CommandMetadataCount, one CommandMetadata per matching command (see
// commandMetadata), then Completed.
func (s *Server) psCommandMetadataLocked(pool *psrp.ServerPool, ev psrp.GetCommandMetadataReceived) error {
	pl := pool.Pipeline(ev.Pipeline)
	if pl == nil {
		return nil
	}
	v, err := clixml.Unmarshal(ev.Message.Data)
	if err != nil {
		return err
	}
	req, err := psrp.DecodeGetCommandMetadata(v)
	if err != nil {
		return err
	}
	cmds := s.commandMetadata(req)
	if err := pl.WriteOutput((&psrp.CommandMetadataCount{Count: int32(len(cmds))}).ToCLIXML()); err != nil {
		return err
	}
	for _, m := range cmds {
		if err := pl.WriteOutput(m.ToCLIXML()); err != nil {
			return err
		}
	}
	return pl.SetState(psrp.PSInvocationCompleted, nil)
}

// psCommandFor finds the command a pipeline message belongs to: the
// command of the request, else the command whose PID matches.
func (s *Server) psCommandFor(sh *shell, c *command, pid uuid.UUID) *command {
	if c != nil && c.ps != nil {
		return c
	}
	for _, x := range sh.commands {
		if x.ps != nil && x.ps.pid == pid {
			return x
		}
	}
	return nil
}

// psStartLocked decodes CREATE_PIPELINE and starts the handler.
func (s *Server) psStartLocked(sh *shell, c *command, pid uuid.UUID, m *psrp.Message) error {
	if c == nil {
		return errors.New("CREATE_PIPELINE outside a Command request")
	}
	v, err := clixml.Unmarshal(m.Data)
	if err != nil {
		return err
	}
	cp, err := psrp.DecodeCreatePipeline(v)
	if err != nil {
		return err
	}
	c.ps.pid = pid
	c.ps.started = true
	inv := &Invocation{Kind: KindPowerShell, ShellID: sh.id, CommandID: c.id, ConfigurationName: sh.config,
		User: sh.owner, NoInput: cp.NoInput, CommandLine: c.commandLine}
	// Several statements: ExtraCmds lists them all and Cmds repeats the
	// first (test_psrp_long_running_cmdlet.yml); each runs on its own.
	for _, stmt := range cp.PowerShell.Statements() {
		cmds := make([]Command, 0, len(stmt))
		for _, pc := range stmt {
			cmd := Command{Name: pc.Cmd, IsScript: pc.IsScript}
			for _, a := range pc.Args {
				cmd.Parameters = append(cmd.Parameters, Parameter{Name: a.Name, Value: a.Value})
			}
			cmds = append(cmds, cmd)
		}
		inv.Statements = append(inv.Statements, cmds)
	}
	if len(inv.Statements) > 0 {
		inv.Pipeline = inv.Statements[0]
	}
	if cp.NoInput {
		c.ps.inputEOF = true
	}
	inv.sink = &psSink{s: s, c: c}
	s.startLocked(c, inv)
	return nil
}

// psFinishLocked ends a pipeline after its handler returned.
func (s *Server) psFinishLocked(c *command, err error) {
	c.finished = true
	if c.ps == nil || c.sh.ps == nil {
		return
	}
	pl := c.sh.ps.pool.Pipeline(c.ps.pid)
	if pl == nil || pl.State().Terminal() {
		return
	}
	switch {
	case c.stopped:
		_ = pl.SetState(psrp.PSInvocationStopped, toPSRPError(&ErrorRecord{
			Message:               "The pipeline has been stopped.",
			ExceptionType:         "System.Management.Automation.PipelineStoppedException",
			FullyQualifiedErrorID: "PipelineStopped",
			Category:              CategoryOperationStopped,
			CategoryReason:        "PipelineStoppedException",
		}))
	case err == nil:
		_ = pl.SetState(psrp.PSInvocationCompleted, nil)
	default:
		var rec *ErrorRecord
		if !errors.As(err, &rec) {
			rec = &ErrorRecord{Message: err.Error(), ExceptionType: "System.Management.Automation.RuntimeException",
				FullyQualifiedErrorID: "RuntimeException", CategoryReason: "RuntimeException"}
		}
		_ = pl.SetState(psrp.PSInvocationFailed, toPSRPError(rec))
	}
}

// psTarget is the output queue of a command (or the pool for nil).
func psTarget(c *command) psrp.Target {
	if c == nil || c.ps == nil {
		return psrp.PoolTarget
	}
	return psrp.Target{Pipeline: c.ps.pid}
}

// streamElementCost is what one rsp:Stream element adds to a Receive
// response besides its base64 text (its tags and the Name and CommandId
// attributes, about 90 bytes, plus base64 padding), counted generously in
// payload bytes (3 payload bytes are 4 bytes of base64).
const streamElementCost = 96

// psTakeLocked takes up to maxBytes of queued PSRP output for the pool or a
// command. As Windows does, every rsp:Stream element carries one fragment
// (all 473 PowerShell stdout Stream elements in the pypsrp recordings hold
// exactly one), so a client that decodes one fragment per
// element works; with Options.PackFragments an element holds as many whole
// fragments as fit in the fragment size. maxBytes counts each element's
// markup (streamElementCost) too, so the response stays within the
// envelope size however small the fragments are.
func (s *Server) psTakeLocked(sh *shell, c *command, maxBytes int) []wsman.Stream {
	pool := sh.ps.pool
	t := psTarget(c)
	if c != nil && (c.ps == nil || !c.ps.started) {
		return nil
	}
	pack := s.opts.PackFragments
	frag := s.fragmentSize()
	ob := &sh.ps.out
	if c != nil {
		s.psDrainLocked(c)
		ob = &c.ps.out
	} else {
		s.psDrainTo(pool, t, ob)
	}
	var out []wsman.Stream
	for budget := maxBytes; !ob.empty(); {
		// The element's payload: at most a fragment size and what is left
		// of the budget after its markup; the first element always gets a
		// smallest fragment, so that a Receive makes progress.
		n := min(frag, budget-streamElementCost)
		if n < psrp.MinFragmentSize {
			if len(out) > 0 {
				break
			}
			n = psrp.MinFragmentSize
		}
		var b []byte
		if pack {
			b = ob.take(n, frag)
		} else {
			b = ob.takeOne(n, frag)
		}
		if len(b) == 0 {
			break
		}
		st := wsman.Stream{Name: wsman.StreamStdout, Data: b}
		if c != nil {
			st.CommandID = c.id
		}
		out = append(out, st)
		budget -= len(b) + streamElementCost
	}
	return out
}

// psDrained reports whether a command's output queue is empty.
func psDrained(c *command) bool {
	if c.sh.ps == nil || c.ps == nil || !c.ps.started {
		return true
	}
	return c.ps.out.empty() && c.sh.ps.pool.PendingMessages(psTarget(c)) == 0
}

// psPending reports the bytes queued for a command's output: its outbox
// and whatever psrp queued since the last drain (a few messages at most).
func psPending(c *command) int {
	if c.sh.ps == nil || c.ps == nil || !c.ps.started {
		return 0
	}
	return c.ps.out.size + c.sh.ps.pool.Pending(psTarget(c))
}

// applicationPrivateData is what the server sends in
// APPLICATION_PRIVATE_DATA: a PSVersionTable like Windows PowerShell 5.1's.
func (s *Server) applicationPrivateData() *psrp.ApplicationPrivateData {
	str := func(k string) clixml.Value { return clixml.String(k) }
	versions := &clixml.Object{TypeNames: []string{"System.Version[]", "System.Array", "System.Object"}, Kind: clixml.List,
		Items: []clixml.Value{clixml.Version("1.0"), clixml.Version("2.0"), clixml.Version("3.0"), clixml.Version("4.0"),
			clixml.Version("5.0"), clixml.Version("5.1.17763.1")}}
	table := psrp.NewPSPrimitiveDictionary(
		clixml.DictEntry{Key: str("PSRemotingProtocolVersion"), Value: clixml.Version("2.3")},
		clixml.DictEntry{Key: str("BuildVersion"), Value: clixml.Version("10.0.17763.1")},
		clixml.DictEntry{Key: str("PSCompatibleVersions"), Value: versions},
		clixml.DictEntry{Key: str("PSVersion"), Value: clixml.Version("5.1.17763.1")},
		clixml.DictEntry{Key: str("CLRVersion"), Value: clixml.Version("4.0.30319.42000")},
		clixml.DictEntry{Key: str("PSEdition"), Value: clixml.String("Desktop")},
		clixml.DictEntry{Key: str("WSManStackVersion"), Value: clixml.Version("3.0")},
		clixml.DictEntry{Key: str("SerializationVersion"), Value: clixml.Version("1.1.0.1")},
	)
	return &psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary(
		clixml.DictEntry{Key: str("PSVersionTable"), Value: table})}
}

// toPSRPError converts a handler's error record to the protocol object.
func toPSRPError(r *ErrorRecord) *psrp.ErrorRecord {
	typ := r.ExceptionType
	if typ == "" {
		typ = "Microsoft.PowerShell.Commands.WriteErrorException"
	}
	fqid := r.FullyQualifiedErrorID
	if fqid == "" {
		fqid = "Microsoft.PowerShell.Commands.WriteErrorException"
	}
	reason := r.CategoryReason
	if reason == "" {
		reason = typ[strings.LastIndexByte(typ, '.')+1:]
	}
	typeNames := []string{typ}
	if typ != "System.Exception" {
		typeNames = append(typeNames, "System.SystemException", "System.Exception")
	}
	typeNames = append(typeNames, "System.Object")
	catMsg := categoryMessage(r.Category, r.TargetName, r.TargetType, r.CategoryActivity, reason)
	return &psrp.ErrorRecord{
		Message:               r.Message,
		Exception:             &psrp.ExceptionInfo{TypeNames: typeNames, Message: r.Message, ToString: typ + ": " + r.Message},
		TargetObject:          r.TargetObject,
		FullyQualifiedErrorID: fqid,
		Category:              psrp.ErrorCategory(r.Category),
		Activity:              r.CategoryActivity,
		Reason:                reason,
		TargetName:            r.TargetName,
		TargetType:            r.TargetType,
		CategoryMessage:       catMsg,
	}
}

// categoryMessage is ErrorCategoryInfo.GetMessage as Windows PowerShell
// serializes it in ErrorCategory_Message, for example
// "ObjectNotFound: (foo:String) [], CommandNotFoundException"; a target name
// longer than 40 characters is shortened to its first and last 15 with "..."
// between (as the recorded "The path at 'C:... does not exist").
func categoryMessage(cat ErrorCategory, targetName, targetType, activity, reason string) string {
	if r := []rune(targetName); len(r) > 40 {
		targetName = string(r[:15]) + "..." + string(r[len(r)-15:])
	}
	return fmt.Sprintf("%s: (%s:%s) [%s], %s", psrp.ErrorCategory(cat), targetName, targetType, activity, reason)
}

// psSink is the invocationSink of a PowerShell pipeline.
type psSink struct {
	s *Server
	c *command
}

// pipelineLocked returns the pipeline, or an error when it is gone.
func (k *psSink) pipelineLocked(ctx context.Context) (*psrp.ServerPipeline, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pl := k.c.sh.ps.pool.Pipeline(k.c.ps.pid)
	if pl == nil {
		return nil, errGone
	}
	return pl, nil
}

// makeRoomLocked applies the buffer policy to the pipeline's queue.
func (k *psSink) makeRoomLocked(ctx context.Context) error {
	s, c := k.s, k.c
	limit := s.opts.OutputBufferSize
	per := s.fragmentSize() - psrp.FragmentHeaderSize
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Messages written since the last drain move to the outbox, whose
		// size is known in O(1).
		s.psDrainLocked(c)
		if c.ps.out.size < limit {
			return nil
		}
		if c.sh.state == stateDisconnected && c.sh.bufferMode == "Drop" {
			for c.ps.out.size >= limit && c.ps.out.dropOldestUnsent(per) {
				c.dropped++
			}
			return nil
		}
		c.blocked++
		err := s.waitLocked(ctx, c.sh)
		c.blocked--
		if err != nil {
			return err
		}
	}
}

func (k *psSink) write(ctx context.Context, st stream, v any) error {
	s := k.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := k.makeRoomLocked(ctx); err != nil {
		return err
	}
	pl, err := k.pipelineLocked(ctx)
	if err != nil {
		return err
	}
	switch st {
	case streamOutput:
		err = pl.WriteOutput(v.(clixml.Value))
	case streamError:
		err = pl.WriteError(toPSRPError(v.(*ErrorRecord)))
	case streamWarning:
		err = pl.WriteWarning(&psrp.InformationalRecord{Message: v.(string)})
	case streamVerbose:
		err = pl.WriteVerbose(&psrp.InformationalRecord{Message: v.(string)})
	case streamDebug:
		err = pl.WriteDebug(&psrp.InformationalRecord{Message: v.(string)})
	case streamInformation:
		r := v.(*InformationRecord)
		md := r.MessageData
		if md == nil {
			md = clixml.Nil{}
		}
		err = pl.WriteInformation(&psrp.InformationRecord{MessageData: md, Source: r.Source,
			TimeGenerated: clixml.DateTime{Time: r.TimeGenerated}, Tags: r.Tags, User: r.User,
			Computer: r.Computer, ProcessID: uint32(s.opts.ProcessID)})
	case streamProgress:
		r := v.(*ProgressRecord)
		rt := psrp.ProgressRecordType(0)
		if r.Completed {
			rt = 1
		}
		err = pl.WriteProgress(&psrp.ProgressRecord{Activity: r.Activity, ActivityID: r.ActivityID,
			StatusDescription: r.StatusDescription, CurrentOperation: r.CurrentOperation,
			ParentActivityID: r.ParentActivityID, PercentComplete: r.PercentComplete,
			RecordType: rt, SecondsRemaining: r.SecondsRemaining})
	default:
		err = ErrWrongKind
	}
	if err != nil {
		return err
	}
	k.c.sh.broadcast()
	return nil
}

func (k *psSink) writeBytes(context.Context, stream, []byte) (int, error) { return 0, ErrWrongKind }

func (k *psSink) readInput(ctx context.Context) (clixml.Value, error) {
	s, c := k.s, k.c
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(c.ps.input) > 0 {
			v := c.ps.input[0]
			c.ps.input[0] = nil
			c.ps.input = c.ps.input[1:]
			return v, nil
		}
		if c.ps.inputEOF {
			return nil, io.EOF
		}
		if err := s.waitLocked(ctx, c.sh); err != nil {
			return nil, err
		}
	}
}

func (k *psSink) readStdin(context.Context, []byte) (int, error) { return 0, ErrWrongKind }

func (k *psSink) hostCall(ctx context.Context, call HostCall) (clixml.Value, error) {
	s, c := k.s, k.c
	s.mu.Lock()
	defer s.mu.Unlock()
	pl, err := k.pipelineLocked(ctx)
	if err != nil {
		return nil, err
	}
	method := psrp.HostMethodID(call.MethodID)
	hc := &psrp.HostCall{MethodID: method, Params: call.Parameters}
	if method.Voids() {
		hc.CallID = -100
	} else {
		c.ps.nextCall++
		hc.CallID = c.ps.nextCall
	}
	if err := pl.HostCall(hc); err != nil {
		return nil, err
	}
	c.sh.broadcast()
	if method.Voids() {
		return nil, nil
	}
	c.pending = true
	defer func() { c.pending = false }()
	for {
		if hr, ok := c.ps.responses[hc.CallID]; ok {
			delete(c.ps.responses, hc.CallID)
			if hr.Exception != nil {
				if er, derr := psrp.DecodeErrorRecord(hr.Exception); derr == nil {
					return nil, &ErrorRecord{Message: er.Message, FullyQualifiedErrorID: er.FullyQualifiedErrorID}
				}
				return nil, errors.New("wsmantest: the host call failed on the client")
			}
			return hr.Return, nil
		}
		if err := s.waitLocked(ctx, c.sh); err != nil {
			return nil, err
		}
	}
}

func (k *psSink) exit(int) {}
