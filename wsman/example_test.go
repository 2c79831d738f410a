package wsman_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/psremoting/psremoting/wsman"
)

// A tiny server built from the same message layer answers one Receive.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := wsman.ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv, _ := req.DecodeRequestBody()
		id := rcv.(*wsman.Receive).CommandID
		resp := &wsman.ReceiveResponse{
			Streams: []wsman.Stream{{Name: "stdout", CommandID: id, Data: []byte("hello\r\n")}},
			CommandState: &wsman.CommandState{CommandID: id, State: wsman.CommandStateDone,
				ExitCode: 0, HasExitCode: true},
		}
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		_, _ = w.Write(wsman.NewResponse(req, resp.Element()).Marshal())
	}))
	defer srv.Close()

	c, err := wsman.NewClient(srv.URL+"/wsman", wsman.Config{Proxy: wsman.NoProxy})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: "0E1C5A48-7A26-4C3E-9F6C-1B6F3C1A2B3C"}
	rr, err := c.Receive(context.Background(), ref, &wsman.Receive{
		DesiredStream: "stdout stderr", CommandID: "D37A8327-79AD-452F-BE0D-4B99A96B4A0B"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q done=%v exit=%d\n", rr.StreamData("stdout", "D37A8327-79AD-452F-BE0D-4B99A96B4A0B"),
		rr.CommandState.Done(), rr.CommandState.ExitCode)
	// Output: "hello\r\n" done=true exit=0
}

// Receive loops treat the w:TimedOut fault as "nothing yet".
func ExampleClient_Receive() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := wsman.ParseEnvelope(body)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(wsman.NewFaultResponse(req, wsman.TimedOutFault("server")).Marshal())
	}))
	defer srv.Close()
	c, _ := wsman.NewClient(srv.URL, wsman.Config{Proxy: wsman.NoProxy})
	ref := wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: "B6631D8E-65A0-49F2-9053-A1B156C95777"}
	rr, err := c.Receive(context.Background(), ref, &wsman.Receive{})
	fmt.Println(rr.TimedOut, err)
	// Output: true <nil>
}

// Faults are typed errors usable with errors.Is.
func ExampleFault() {
	f := wsman.ShellNotFoundFault("server")
	fmt.Println(f.WSManCode(), f.Is(wsman.ErrShellNotFound))
	// Output: 2150858843 true
}

func ExampleBuildURL() {
	u, _ := wsman.BuildURL("server", 0, true, "")
	fmt.Println(u)
	// Output: https://server:5986/wsman
}
