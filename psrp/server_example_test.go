package psrp_test

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// A server pool answers a client that opens a pool and runs one command:
// it reads the client's INIT_RUNSPACEPOOL and CREATE_PIPELINE from the
// payloads of a WSMan Create and Command, opens the pool, runs the command
// (here by writing two numbers) and queues the output and the final state
// for the client's WSMan Receives.
func ExampleServerPool() {
	poolID := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	server := psrp.NewServerPool(poolID, psrp.ServerPoolConfig{})

	// The client side, as a PowerShell client would send it.
	client, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID, MinRunspaces: 1, MaxRunspaces: 2})
	if err != nil {
		panic(err)
	}

	// serve gives the server a client payload and acts on its events.
	serve := func(payload []byte) {
		events, err := server.ReceiveData(payload)
		if err != nil {
			panic(err)
		}
		for _, e := range events {
			switch e := e.(type) {
			case psrp.SessionCapabilityReceived:
				fmt.Println("server: client protocol", e.Capability.ProtocolVersion)
			case psrp.InitRunspacePoolReceived:
				fmt.Println("server: open with runspaces", e.Data.MinRunspaces, "to", e.Data.MaxRunspaces)
				_ = server.SendApplicationPrivateData(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()})
				_ = server.SetState(psrp.RunspacePoolOpened, nil)
			case psrp.CreatePipelineReceived:
				d, err := psrp.DecodeMessageData(e.Message)
				if err != nil {
					panic(err)
				}
				cmd := d.(*psrp.CreatePipeline).PowerShell.Cmds[0]
				fmt.Println("server: run", cmd.Cmd, cmd.Args[0].Name, cmd.Args[0].Value)
				pl := server.Pipeline(e.Pipeline)
				_ = pl.WriteOutput(clixml.Int32(1))
				_ = pl.WriteOutput(clixml.Int32(2))
				_ = pl.SetState(psrp.PSInvocationCompleted, nil)
			}
		}
	}
	// receive answers the client's WSMan Receives for target t until the
	// server has nothing queued there.
	receive := func(t psrp.Target) {
		for server.Pending(t) > 0 {
			payload, _ := server.NextPayload(t, 150_000)
			events, err := client.ReceiveData(payload)
			if err != nil {
				panic(err)
			}
			for _, e := range events {
				switch e := e.(type) {
				case psrp.RunspacePoolStateChanged:
					fmt.Println("client: pool", e.New)
				case psrp.PipelineOutputReceived:
					v, _ := clixml.Unmarshal(e.Message.Data)
					fmt.Println("client: output", v)
				case psrp.PipelineStateChanged:
					fmt.Println("client: pipeline", e.New)
				}
			}
		}
	}

	_ = client.Open()
	creationXML, _ := client.NextPayload(psrp.PoolTarget, 150_000) // WSMan Create
	serve(creationXML)
	receive(psrp.PoolTarget)
	fmt.Println("server: pool", server.State())

	pipeline, _ := client.NewPipeline(uuid.Nil, &psrp.CreatePipeline{
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{
			Cmd:  "Get-Random",
			Args: []psrp.CommandParameter{{Name: "Maximum", Value: clixml.Int32(10)}},
		}}},
		HostInfo: psrp.NoHost(),
	})
	_ = pipeline.Invoke()
	arguments, _ := client.NextPayload(pipeline.Target(), 150_000) // WSMan Command
	serve(arguments)
	receive(pipeline.Target())
	fmt.Println("server: pipeline", server.Pipeline(pipeline.ID()).State())

	// Output:
	// server: client protocol 2.3
	// server: open with runspaces 1 to 2
	// client: pool Opened
	// server: pool Opened
	// server: run Get-Random Maximum 10
	// client: output 1
	// client: output 2
	// client: pipeline Completed
	// server: pipeline Completed
}
