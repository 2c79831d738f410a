package psrptrace

import (
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

// BenchmarkTraceRecordings traces all 66 pypsrp recordings (already parsed
// from YAML): envelope scan, base64, reassembly, message, CLIXML and protocol
// object decoding. MB/s counts the envelope bytes.
func BenchmarkTraceRecordings(b *testing.B) {
	recs := recordings.LoadAll(b)
	var size int64
	for _, r := range recs {
		for _, ex := range r.Messages {
			size += int64(len(ex.Request) + len(ex.Response))
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	msgs := 0
	for i := 0; i < b.N; i++ {
		for _, r := range recs {
			ms, err := Recording(r)
			if err != nil {
				b.Fatal(err)
			}
			msgs += len(ms)
		}
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}
