package wsmantest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A PowerShell runspace pool on the fake server, driven by the psrp state
// machines over the wsman client: a script runs through the built-in script
// subset, then a pipeline of two statements (a registered handler and a
// script) runs each statement on its own, as Windows does. The server has
// no users, so no authentication is needed.
func Example_powerShell() {
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	srv.HandleFunc("Get-Greeting", func(ctx context.Context, inv *wsmantest.Invocation) error {
		name := "world"
		for _, p := range inv.Pipeline[0].Parameters {
			if strings.EqualFold(p.Name, "Name") {
				name = fmt.Sprint(clixml.ToGo(p.Value))
			}
		}
		return inv.WriteOutput(clixml.String("Hello, " + name))
	})

	ctx := context.Background()
	wc, err := wsman.NewClient(srv.URL, wsman.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer wc.CloseIdleConnections()

	// Create the shell with the pool's opening messages, then receive
	// until the pool is open.
	poolID := uuid.New()
	pool, _ := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID})
	_ = pool.Open()
	creationXML, _ := pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize())
	created, err := wc.CreatePowerShell(ctx, wsman.PowerShellShell{ShellID: strings.ToUpper(poolID.String()), CreationXML: creationXML,
		ProtocolVersion: psrp.DefaultProtocolVersion})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref := wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: created.ShellID()}
	for pool.State() != psrp.RunspacePoolOpened {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{})
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, "")); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("pool", pool.State())

	// run sends a pipeline and prints its output and final state.
	run := func(ps psrp.PowerShell) {
		pl, _ := pool.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true, PowerShell: ps, HostInfo: psrp.NoHost()})
		_ = pl.Invoke()
		args, _ := pool.NextPayload(pl.Target(), wc.MaxPayloadSize())
		id, err := wc.Command(ctx, ref, &wsman.CommandLine{CommandID: strings.ToUpper(pl.ID().String()),
			Arguments: wsman.PowerShellArguments(args)})
		if err != nil {
			fmt.Println(err)
			return
		}
		for {
			rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: id})
			if err != nil {
				fmt.Println(err)
				return
			}
			events, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, id))
			if err != nil {
				fmt.Println(err)
				return
			}
			for _, e := range events {
				switch e := e.(type) {
				case psrp.PipelineOutputReceived:
					v, _ := clixml.Unmarshal(e.Message.Data)
					fmt.Println("output:", clixml.ToGo(v))
				case psrp.PipelineStateChanged:
					fmt.Println("state:", e.New)
				}
			}
			if rr.CommandState.Done() {
				break
			}
		}
		_ = wc.Signal(ctx, ref, id, wsman.SignalTerminate)
	}

	run(psrp.NewPowerShell([]psrp.Command{{Cmd: `1..2 | ForEach-Object { "item $_" }`, IsScript: true}}))
	run(psrp.NewPowerShell(
		[]psrp.Command{{Cmd: "Get-Greeting", Args: []psrp.CommandParameter{{Name: "Name", Value: clixml.String("PSRP")}}}},
		[]psrp.Command{{Cmd: "Write-Output 'second statement'", IsScript: true}},
	))
	_ = wc.Delete(ctx, ref)
	// Output:
	// pool Opened
	// output: item 1
	// output: item 2
	// state: Completed
	// output: Hello, PSRP
	// output: second statement
	// state: Completed
}
