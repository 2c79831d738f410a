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

// A new client connects to a disconnected pool and collects the output of a
// command that kept running (Receive-PSSession). The server side here is a
// ServerPool that already runs the pool and buffered "a" for the command.
func ExampleClientPool_Connect() {
	poolID := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	commandID := uuid.MustParse("DB4E8DCF-51CC-423F-A7DF-5D0EA0D6FA08")
	server := runningServer(poolID, commandID)

	client, _ := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID}) // the enumerated ShellId
	_ = client.Connect()
	connectXML, err := client.ConnectPayload(150_000) // must fit one WSMan Connect
	if err != nil {
		panic(err)
	}
	if _, err := server.ReceiveConnect(connectXML); err != nil {
		panic(err)
	}
	connectResponseXML, _ := server.ConnectResponse()
	events, _ := client.ReceiveData(connectResponseXML)
	for _, e := range events {
		if e, ok := e.(psrp.RunspacePoolStateChanged); ok {
			fmt.Println("pool", e.Old, "->", e.New)
		}
	}

	// <rsp:Connect CommandId=...>, then Receive with that CommandId.
	pipeline, _ := client.AdoptPipeline(commandID)
	_ = server.Pipeline(commandID).SetState(psrp.PSInvocationCompleted, nil)
	for server.Pending(pipeline.Target()) > 0 {
		payload, _ := server.NextPayload(pipeline.Target(), 150_000)
		events, _ := client.ReceiveData(payload)
		for _, e := range events {
			switch e := e.(type) {
			case psrp.PipelineOutputReceived:
				v, _ := clixml.Unmarshal(e.Message.Data)
				fmt.Println("output", v)
			case psrp.PipelineStateChanged:
				fmt.Println("pipeline", e.Old, "->", e.New)
			}
		}
	}
	// Output:
	// pool Connecting -> Opened
	// output a
	// pipeline Running -> Completed
}

// runningServer opens a pool with one running command that wrote "a", as a
// first client would have left it before disconnecting.
func runningServer(poolID, commandID uuid.UUID) *psrp.ServerPool {
	first, _ := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID})
	server := psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{})
	_ = first.Open()
	b, _ := first.NextPayload(psrp.PoolTarget, 150_000)
	_, _ = server.ReceiveData(b)
	_ = server.SendApplicationPrivateData(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()})
	_ = server.SetState(psrp.RunspacePoolOpened, nil)
	b, _ = server.NextPayload(psrp.PoolTarget, 150_000)
	_, _ = first.ReceiveData(b)
	pl, _ := first.NewPipeline(commandID, &psrp.CreatePipeline{
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "Write-Output a; sleep 5", IsScript: true}}},
		HostInfo:   psrp.NoHost(),
	})
	_ = pl.Invoke()
	b, _ = first.NextPayload(pl.Target(), 150_000)
	_, _ = server.ReceiveData(b)
	_ = server.Pipeline(commandID).WriteOutput(clixml.String("a"))
	return server
}
