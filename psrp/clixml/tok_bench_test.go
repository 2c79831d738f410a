package clixml

import (
	"io"
	"testing"
)

// BenchmarkFastTokenizer runs the specialised tokenizer alone over the
// corpus (no values built), to show how decoding time divides.
func BenchmarkFastTokenizer(b *testing.B) {
	c := corpus(b)
	b.SetBytes(c.size)
	b.ReportAllocs()
	m := startCPU(b)
	var tok token
	for i := 0; i < b.N; i++ {
		for _, msg := range c.messages {
			t := newFastTokenizer(msg, nil, DefaultMaxStringSize)
			for {
				if err := t.next(&tok); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
			}
		}
	}
	m.report(b, c.size, c.objects)
}
