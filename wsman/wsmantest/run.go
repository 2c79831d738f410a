package wsmantest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// startLocked resolves the command's handler and runs it on its own
// goroutine. The sink must be set for PowerShell pipelines; cmd commands
// get a cmdSink.
func (s *Server) startLocked(c *command, inv *Invocation) {
	inv.ctx = c.ctx
	inv.srv = s
	if inv.sink == nil {
		inv.sink = &cmdSink{s: s, c: c}
	}
	h := s.resolve(inv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := runHandler(h, c.ctx, inv)
		s.mu.Lock()
		defer s.mu.Unlock()
		c.running = false
		if c.sh.kind == KindPowerShell {
			s.psFinishLocked(c, err)
		} else {
			if err != nil {
				c.out.push(chunk{stream: "stderr", data: []byte(err.Error() + "\r\n"), group: s.nextGroupLocked()})
				if !c.exitSet {
					c.exitCode = 1
				}
			}
			c.finished = true
		}
		c.sh.broadcast()
		s.poke()
	}()
}

// runHandler runs h and turns a panic into an error, so that a buggy
// handler fails its command instead of the test binary.
func runHandler(h Handler, ctx context.Context, inv *Invocation) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("wsmantest: handler panicked: %v", r)
		}
	}()
	return h.Run(ctx, inv)
}

// nextGroupLocked returns a new output group number.
func (s *Server) nextGroupLocked() uint64 {
	s.groups++
	return s.groups
}

// waitLocked releases s.mu until the shell changes or ctx ends, then
// re-acquires it. It returns ctx.Err() when ctx ended.
func (s *Server) waitLocked(ctx context.Context, sh *shell) error {
	ch := sh.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// makeRoomLocked applies the buffer policy before n more bytes are queued
// on out: with BufferMode Drop on a disconnected shell the oldest output is
// discarded; otherwise the writer waits while the buffer is full (Block),
// until a Receive takes output.
func (s *Server) makeRoomLocked(ctx context.Context, c *command, out *outbox, n int) error {
	sh := c.sh
	limit := s.opts.OutputBufferSize
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if out.size+n <= limit || out.empty() {
			return nil
		}
		if sh.state == stateDisconnected && sh.bufferMode == "Drop" {
			for !out.empty() && out.size+n > limit {
				out.dropOldest()
			}
			return nil
		}
		c.blocked++
		err := s.waitLocked(ctx, sh)
		c.blocked--
		if err != nil {
			return err
		}
	}
}

// cmdSink is the invocationSink of a cmd command.
type cmdSink struct {
	s *Server
	c *command
}

func (k *cmdSink) write(context.Context, stream, any) error { return ErrWrongKind }

func (k *cmdSink) writeBytes(ctx context.Context, st stream, p []byte) (int, error) {
	name := "stdout"
	if st == streamStderr {
		name = "stderr"
	}
	s, c := k.s, k.c
	written := 0
	max := s.fragmentSize()
	s.mu.Lock()
	defer s.mu.Unlock()
	for written < len(p) {
		n := len(p) - written
		if n > max {
			n = max
		}
		if err := s.makeRoomLocked(ctx, c, &c.out, n); err != nil {
			return written, err
		}
		c.out.push(chunk{stream: name, data: append([]byte(nil), p[written:written+n]...), group: s.nextGroupLocked()})
		written += n
		c.sh.broadcast()
	}
	return written, nil
}

func (k *cmdSink) readInput(context.Context) (clixml.Value, error) { return nil, ErrWrongKind }

func (k *cmdSink) readStdin(ctx context.Context, p []byte) (int, error) {
	s, c := k.s, k.c
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(c.stdin) > 0 {
			n := copy(p, c.stdin)
			c.stdin = c.stdin[n:]
			return n, nil
		}
		if c.stdinEOF {
			return 0, io.EOF
		}
		if err := s.waitLocked(ctx, c.sh); err != nil {
			return 0, err
		}
	}
}

func (k *cmdSink) hostCall(context.Context, HostCall) (clixml.Value, error) {
	return nil, ErrWrongKind
}

func (k *cmdSink) exit(code int) {
	k.s.mu.Lock()
	k.c.exitCode = code
	k.c.exitSet = true
	k.s.mu.Unlock()
}

// decodeB64 decodes standard base64, ignoring white space.
func decodeB64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}
