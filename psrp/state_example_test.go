package psrp_test

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// A client and a server state machine talk in memory: the client opens a
// pool and runs a pipeline; the server answers with output and a state. In
// a real program the payloads travel in WSMan Create/Command/Send/Receive.
func ExampleClientPool() {
	poolID := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	client, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID})
	if err != nil {
		panic(err)
	}
	server := psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{})

	// toServer moves what the client queued for a target to the server.
	toServer := func(t psrp.Target) {
		for client.Pending(t) > 0 {
			payload, _ := client.NextPayload(t, 150_000) // creationXml, Arguments or Send
			events, err := server.ReceiveData(payload)
			if err != nil {
				panic(err)
			}
			for _, e := range events {
				fmt.Printf("server: %T\n", e)
			}
		}
	}
	// toClient moves what the server queued for a target to the client.
	toClient := func(t psrp.Target) {
		for server.Pending(t) > 0 {
			payload, _ := server.NextPayload(t, 150_000) // a Receive response
			events, err := client.ReceiveData(payload)
			if err != nil {
				panic(err)
			}
			for _, e := range events {
				switch e := e.(type) {
				case psrp.RunspacePoolStateChanged:
					fmt.Println("client: pool", e.Old, "->", e.New)
				case psrp.PipelineOutputReceived:
					v, _ := clixml.Unmarshal(e.Message.Data)
					fmt.Println("client: output", v)
				case psrp.PipelineStateChanged:
					fmt.Println("client: pipeline", e.Old, "->", e.New)
				default:
					fmt.Printf("client: %T\n", e)
				}
			}
		}
	}

	_ = client.Open()
	toServer(psrp.PoolTarget)
	_ = server.SendApplicationPrivateData(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()})
	_ = server.SetState(psrp.RunspacePoolOpened, nil)
	toClient(psrp.PoolTarget)

	pipeline, _ := client.NewPipeline(uuid.Nil, &psrp.CreatePipeline{
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "'hello'", IsScript: true}}},
		HostInfo:   psrp.NoHost(),
	})
	_ = pipeline.Invoke()
	toServer(pipeline.Target())
	sp := server.Pipeline(pipeline.ID())
	_ = sp.WriteOutput(clixml.String("hello"))
	_ = sp.SetState(psrp.PSInvocationCompleted, nil)
	toClient(pipeline.Target())

	// Output:
	// server: psrp.SessionCapabilityReceived
	// server: psrp.InitRunspacePoolReceived
	// client: psrp.SessionCapabilityReceived
	// client: psrp.ApplicationPrivateDataReceived
	// client: pool Opening -> Opened
	// server: psrp.CreatePipelineReceived
	// client: output hello
	// client: pipeline Running -> Completed
}
