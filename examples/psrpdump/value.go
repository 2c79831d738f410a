package main

import (
	"encoding/json"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// valueJSON returns the message's CLIXML in the JSON form of package clixml
// (see clixml.JSON), or null for a message without data.
func valueJSON(m psrptrace.Message) (json.RawMessage, error) {
	if m.Value == nil {
		return json.RawMessage("null"), nil
	}
	b, err := clixml.JSON(m.Value)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}
