package psrp

import (
	"testing"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

var fuzzPipelineID = uuid.MustParse("DB4E8DCF-51CC-423F-A7DF-5D0EA0D6FA08")

// serverTraffic returns real server payloads of a conversation: the open,
// pipeline output of every kind and a final state, for seeding.
func serverTraffic(tb testing.TB) (open []byte, pipeline [][]byte) {
	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	if err != nil {
		tb.Fatal(err)
	}
	s := NewServerPool(uuid.Nil, ServerPoolConfig{MaxFragmentSize: 200})
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(c.Open())
	b, _ := c.NextPayload(PoolTarget, 1<<20)
	_, err = s.ReceiveData(b)
	must(err)
	must(s.SendApplicationPrivateData(&ApplicationPrivateData{Data: NewPSPrimitiveDictionary()}))
	must(s.SetState(RunspacePoolOpened, nil))
	open, _ = s.NextPayload(PoolTarget, 1<<20)
	_, err = c.ReceiveData(open)
	must(err)
	pl, err := c.NewPipeline(fuzzPipelineID, scriptPipeline("x"))
	must(err)
	must(pl.Invoke())
	b, _ = c.NextPayload(pl.Target(), 1<<20)
	_, err = s.ReceiveData(b)
	must(err)
	sp := s.Pipeline(fuzzPipelineID)
	must(sp.WriteOutput(clixml.String("out")))
	must(sp.WriteWarning(&InformationalRecord{Message: "w"}))
	must(sp.WriteProgress(&ProgressRecord{Activity: "a", ParentActivityID: -1}))
	must(sp.HostCall(&HostCall{CallID: 1, MethodID: HostReadLine}))
	must(sp.SetState(PSInvocationFailed, &ErrorRecord{Message: "x", Exception: &ExceptionInfo{Message: "x"}}))
	for s.Pending(sp.Target()) > 0 {
		b, _ := s.NextPayload(sp.Target(), 300)
		pipeline = append(pipeline, b)
	}
	return open, pipeline
}

func FuzzClientPoolReceiveData(f *testing.F) {
	open, pipeline := serverTraffic(f)
	f.Add(open)
	for _, p := range pipeline {
		f.Add(p)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		// A pool that is opening, and one that is opened with a pipeline.
		c, _ := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID,
			Defragmenter: DefragmenterOptions{MaxMessageSize: 1 << 20, MaxPartialMessages: 16}})
		_ = c.Open()
		checkEvents(t)(c.ReceiveData(payload))
		c, _ = NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
		_ = c.Open()
		if _, err := c.ReceiveData(open); err != nil {
			t.Fatal(err)
		}
		pl, _ := c.NewPipeline(fuzzPipelineID, scriptPipeline("x"))
		_ = pl.Invoke()
		checkEvents(t)(c.ReceiveData(payload))
		c.Broken(nil)
	})
}

// checkEvents returns a checker of a ReceiveData result: no nil event, and
// errors that say something.
func checkEvents(t *testing.T) func([]Event, error) {
	return func(ev []Event, err error) {
		for _, e := range ev {
			if e == nil {
				t.Fatal("nil event")
			}
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	}
}

// clientTraffic returns client payloads: an open, a pipeline with input and
// host response, and pool calls.
func clientTraffic(tb testing.TB) (open []byte, rest [][]byte, connect []byte) {
	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	if err != nil {
		tb.Fatal(err)
	}
	_ = c.Open()
	open, _ = c.NextPayload(PoolTarget, 1<<20)
	c.state = RunspacePoolOpened // skip the server's answer
	pl, _ := c.NewPipeline(fuzzPipelineID, scriptPipeline("x"))
	_ = pl.Invoke()
	_ = pl.SendInput(clixml.String("in"), clixml.Int32(1))
	_ = pl.EndInput()
	_ = pl.HostResponse(&HostResponse{CallID: 1, MethodID: HostReadLine, Return: clixml.String("r")})
	_, _ = c.SetMaxRunspaces(3)
	_, _ = c.GetAvailableRunspaces()
	for _, tg := range c.PendingTargets() {
		for c.Pending(tg) > 0 {
			b, _ := c.NextPayload(tg, 250)
			rest = append(rest, b)
		}
	}
	nc, _ := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	_ = nc.Connect()
	connect, _ = nc.ConnectPayload(1 << 20)
	return open, rest, connect
}

func FuzzServerPoolReceiveData(f *testing.F) {
	open, rest, connect := clientTraffic(f)
	f.Add(open, false)
	for _, p := range rest {
		f.Add(p, false)
	}
	f.Add(connect, true)
	f.Fuzz(func(t *testing.T, payload []byte, isConnect bool) {
		s := NewServerPool(uuid.Nil, ServerPoolConfig{Defragmenter: DefragmenterOptions{MaxMessageSize: 1 << 20, MaxPartialMessages: 16}})
		checkEvents(t)(s.ReceiveData(payload))
		s = NewServerPool(uuid.Nil, ServerPoolConfig{})
		if _, err := s.ReceiveData(open); err != nil {
			t.Fatal(err)
		}
		_ = s.SetState(RunspacePoolOpened, nil)
		if isConnect {
			checkEvents(t)(s.ReceiveConnect(payload))
			return
		}
		checkEvents(t)(s.ReceiveData(payload))
	})
}
