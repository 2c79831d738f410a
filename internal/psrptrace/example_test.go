package psrptrace_test

import (
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/psrp"
)

// ExampleTrace decodes a base64 payload, as found in a creationXml or
// rsp:Stream element, into its PSRP messages.
func ExampleTrace() {
	pool := uuid.MustParse("d6b8e2a4-0000-4000-8000-000000000001")
	pipe := uuid.MustParse("d6b8e2a4-0000-4000-8000-000000000002")
	var payload []byte
	for i, data := range []string{`<S>hello</S>`, `<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`} {
		typ := psrp.MessagePipelineOutput
		if i == 1 {
			typ = psrp.MessagePipelineState
		}
		raw := psrp.AppendMessage(nil, &psrp.Message{Destination: psrp.DestinationClient, Type: typ,
			RunspacePoolID: pool, PipelineID: pipe, Data: []byte(data)}, true)
		for _, f := range psrp.SplitMessage(uint64(i+1), raw, 64) {
			payload = f.AppendTo(payload)
		}
	}
	text := base64.StdEncoding.EncodeToString(payload)

	msgs, err := psrptrace.Trace("payload.b64", []byte(text), psrptrace.FormatAuto)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		fmt.Printf("%s %s fragments=%d %T\n", m.Direction, m.Message.Type, m.Fragments, m.Object)
	}
	// Output:
	// response PIPELINE_OUTPUT fragments=2 *psrp.PipelineOutput
	// response PIPELINE_STATE fragments=3 *psrp.PipelineStateInfo
}
