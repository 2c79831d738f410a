package psrp

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// processObject is an output object shaped like Get-Process output: type
// names, a ToString and 20 properties of mixed types.
func processObject(i int) *clixml.Object {
	o := &clixml.Object{
		TypeNames:   []string{"Deserialized.System.Diagnostics.Process", "Deserialized.System.ComponentModel.Component", "Deserialized.System.MarshalByRefObject", "Deserialized.System.Object"},
		ToString:    fmt.Sprintf("System.Diagnostics.Process (svchost%d)", i),
		HasToString: true,
	}
	for j := 0; j < 10; j++ {
		o.Adapted = append(o.Adapted, clixml.Property{Name: fmt.Sprintf("Prop%d", j), Value: clixml.String(fmt.Sprintf("value %d of %d", j, i))})
		o.Adapted = append(o.Adapted, clixml.Property{Name: fmt.Sprintf("Num%d", j), Value: clixml.Int64(int64(i * j))})
	}
	return o
}

// benchClient returns an opened client with a running pipeline and the
// server payloads of n output objects, cut as a Windows server would (32 KiB
// fragments, Receive payloads of 500 KiB at most).
func benchClient(b *testing.B, n int) (*ClientPool, [][]byte, int) {
	open, _ := serverTraffic(b)
	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	if err != nil {
		b.Fatal(err)
	}
	_ = c.Open()
	if _, err := c.ReceiveData(open); err != nil {
		b.Fatal(err)
	}
	pl, err := c.NewPipeline(fuzzPipelineID, scriptPipeline("Get-Process"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pl.Invoke(); err != nil {
		b.Fatal(err)
	}
	s := NewServerPool(testPoolID, ServerPoolConfig{})
	s.state = RunspacePoolOpened
	sp := &ServerPipeline{pool: s, id: fuzzPipelineID, state: PSInvocationRunning}
	sp.out = *NewFragmenter(0, &s.ids)
	s.pipes[sp.id] = sp
	for i := 0; i < n; i++ {
		if err := sp.WriteOutput(processObject(i)); err != nil {
			b.Fatal(err)
		}
	}
	var payloads [][]byte
	size := 0
	for s.Pending(sp.Target()) > 0 {
		p, err := s.NextPayload(sp.Target(), 500<<10)
		if err != nil {
			b.Fatal(err)
		}
		payloads = append(payloads, p)
		size += len(p)
	}
	return c, payloads, size
}

// BenchmarkClientReceiveOutput measures the client state machine alone:
// defragmenting, header decoding, validation and routing of PIPELINE_OUTPUT
// (the data is left for the caller to decode).
func BenchmarkClientReceiveOutput(b *testing.B) {
	const n = 2000
	c, payloads, size := benchClient(b, n)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	objects := 0
	for i := 0; i < b.N; i++ {
		for _, p := range payloads {
			ev, err := c.ReceiveData(p)
			if err != nil {
				b.Fatal(err)
			}
			objects += len(ev)
		}
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkClientReceiveOutputDecoded adds clixml.Unmarshal of every object,
// what a caller that wants Go values pays in total.
func BenchmarkClientReceiveOutputDecoded(b *testing.B) {
	const n = 2000
	c, payloads, size := benchClient(b, n)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	objects := 0
	for i := 0; i < b.N; i++ {
		for _, p := range payloads {
			ev, err := c.ReceiveData(p)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range ev {
				if _, err := clixml.Unmarshal(e.(PipelineOutputReceived).Message.Data); err != nil {
					b.Fatal(err)
				}
				objects++
			}
		}
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkServerWriteOutput measures queueing output on the server
// (CLIXML encoding included) and cutting it into Receive payloads.
func BenchmarkServerWriteOutput(b *testing.B) {
	obj := processObject(1)
	s := NewServerPool(testPoolID, ServerPoolConfig{})
	s.state = RunspacePoolOpened
	sp := &ServerPipeline{pool: s, id: uuid.New(), state: PSInvocationRunning}
	sp.out = *NewFragmenter(0, &s.ids)
	s.pipes[sp.id] = sp
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sp.WriteOutput(obj); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			for s.Pending(sp.Target()) > 0 {
				if _, err := s.NextPayload(sp.Target(), 500<<10); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkClientSendInput measures queueing large pipeline input (64 KiB
// byte arrays, CLIXML <BA> encoding included) and cutting it into Send
// payloads of 500 KiB.
func BenchmarkClientSendInput(b *testing.B) {
	c, _, _ := benchClient(b, 0)
	pl := c.Pipeline(fuzzPipelineID)
	chunk := clixml.Bytes(make([]byte, 64<<10))
	for i := range chunk {
		chunk[i] = byte(i)
	}
	c.SetMaxFragmentSize(380 << 10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pl.SendInput(chunk); err != nil {
			b.Fatal(err)
		}
		for c.Pending(pl.Target()) > 500<<10 {
			if _, err := c.NextPayload(pl.Target(), 500<<10); err != nil {
				b.Fatal(err)
			}
		}
	}
}
