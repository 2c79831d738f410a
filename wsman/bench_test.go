package wsman

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func benchReceiveResponse(payload int) []byte {
	req := &Envelope{Header: Header{Action: ActionReceive, MessageID: NewMessageID()}}
	var streams []Stream
	for i := 0; i < 4; i++ {
		streams = append(streams, Stream{Name: "stdout", CommandID: "356E6DC2-6889-4305-9FE6-8B03F44D7210",
			Data: bytes.Repeat([]byte{byte(i)}, payload/4)})
	}
	rr := &ReceiveResponse{Streams: streams, CommandState: &CommandState{
		CommandID: "356E6DC2-6889-4305-9FE6-8B03F44D7210", State: CommandStateDone, HasExitCode: true}}
	return NewResponse(req, rr.Element()).Marshal()
}

// BenchmarkParseReceiveResponse measures parsing a ~500 KiB ReceiveResponse
// (a full Windows envelope) into decoded streams.
func BenchmarkParseReceiveResponse(b *testing.B) {
	data := benchReceiveResponse(360 << 10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env, err := ParseEnvelope(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseReceiveResponse(env.BodyElement()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/1024, "KiB/envelope")
}

// BenchmarkMarshalSend measures building a full Send request envelope with
// the largest payload that fits a 500 KiB envelope.
func BenchmarkMarshalSend(b *testing.B) {
	c, err := NewClient("https://server:5986/wsman", Config{MaxEnvelopeSize: MaxEnvelopeSizeV3})
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte{0x5A}, c.MaxPayloadSize())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var size int
	for i := 0; i < b.N; i++ {
		env := c.envelope(context.Background(), &Request{
			Action: ActionSend, ResourceURI: PowerShellResourceURI(""),
			Selectors: []Selector{{Name: SelectorShellID, Value: "B6631D8E-65A0-49F2-9053-A1B156C95777"}},
			Body:      []*Element{SendElement(Stream{Name: StreamStdin, Data: payload})},
		})
		size = len(env.Marshal())
	}
	b.ReportMetric(float64(size), "envelope-bytes")
	b.ReportMetric(float64(len(payload)), "payload-bytes")
}

// BenchmarkRoundTrip measures one Receive exchange over loopback HTTP
// (client marshal + server parse/marshal + client parse).
func BenchmarkRoundTrip(b *testing.B) {
	srvData := benchReceiveResponse(32 << 10)
	srv := soapServerB(b, srvData)
	c, err := NewClient(srv, Config{Proxy: NoProxy})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.Post(context.Background(), []byte(`<s:Envelope xmlns:s="`+NSSoap+`"><s:Body/></s:Envelope>`)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/exchange")
}
