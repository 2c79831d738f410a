package clixml

import (
	"bytes"
	"io"
)

// newFastTokenizer returns the tokenizer used by default.
// TODO: replace with the specialised tokenizer.
func newFastTokenizer(data []byte, r io.Reader, maxString int) tokenizer {
	if r == nil {
		r = bytes.NewReader(data)
	}
	return newStdTokenizer(r)
}
