package main

import (
	"encoding/json"

	"github.com/psremoting/psremoting/internal/psrptrace"
)

// valueJSON returns the JSON form of the message's CLIXML.
//
// TEMPORARY: until package clixml's JSON form lands this is the CLIXML text as
// a JSON string.
func valueJSON(m psrptrace.Message) (json.RawMessage, error) {
	if len(m.Message.Data) == 0 {
		return json.RawMessage("null"), nil
	}
	return json.Marshal(string(m.Message.Data))
}
