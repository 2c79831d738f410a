package psrp_test

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// Decode the data of a received message into its protocol object.
func ExampleDecodeMessageData() {
	m := &psrp.Message{
		Destination: psrp.DestinationClient,
		Type:        psrp.MessagePipelineState,
		Data:        []byte(`<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`),
	}
	d, err := psrp.DecodeMessageData(m)
	if err != nil {
		panic(err)
	}
	switch x := d.(type) {
	case *psrp.PipelineStateInfo:
		fmt.Println(x.State, x.State.Terminal())
	case *psrp.PipelineOutput:
		fmt.Println("output:", x.Value)
	}
	// Output: Completed true
}

// Build a CREATE_PIPELINE message for `Get-Item -Path C:\`.
func ExampleNewMessageFor() {
	rpid := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	pid := uuid.MustParse("29608395-4BEF-4F4D-B90D-A17D275F12F3")
	cp := &psrp.CreatePipeline{
		NoInput:             true,
		ApartmentState:      psrp.ApartmentUnknown,
		RemoteStreamOptions: psrp.RemoteStreamAddInvocationInfo,
		HostInfo:            psrp.NoHost(),
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{
			Cmd:  "Get-Item",
			Args: []psrp.CommandParameter{{Name: "Path", Value: clixml.String(`C:\`)}},
		}}},
	}
	m, err := psrp.NewMessageFor(psrp.DestinationServer, rpid, pid, cp)
	if err != nil {
		panic(err)
	}
	wire := psrp.AppendMessage(nil, m, false)
	fmt.Println(m.Type, len(wire) > psrp.MessageHeaderSize)
	// Output: CREATE_PIPELINE true
}
