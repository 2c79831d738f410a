package job_test

import (
	"context"
	"fmt"

	"github.com/psremoting/psremoting/job"
)

// A job fed by a goroutine (what a session does for a command started as a
// job): Receive with Keep leaves the results in the job, Wait waits for the
// end, and a Receive without Keep takes everything.
func Example() {
	ctx := context.Background()
	j, p := job.New[string](job.Info{Name: "Job1", Location: "Server01", TypeName: "RemoteJob"}, nil, job.Options{Table: &job.Table{}})
	firstTwo, more := make(chan struct{}), make(chan struct{})
	go func() {
		_ = p.SetState(job.Running, nil)
		_ = p.Emit(ctx, "Return 1")
		_ = p.Emit(ctx, "Return 2")
		close(firstTwo)
		<-more
		_ = p.Emit(ctx, "Return 3")
		_ = p.SetState(job.Completed, nil)
	}()

	<-firstTwo
	kept, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
	fmt.Println(j.Name(), j.State(), j.HasMoreData(), kept)
	close(more)

	state, _ := j.Wait(ctx)
	all, _ := j.Receive(ctx, job.ReceiveOptions{})
	fmt.Println(state, all, j.HasMoreData())
	// Output:
	// Job1 Running true [Return 1 Return 2]
	// Completed [Return 1 Return 2 Return 3] false
}

// Example 6 of Receive-PSSession: the job of a disconnected session keeps
// its results, and the same job object gets new ones once the session
// connects again.
func Example_disconnected() {
	ctx := context.Background()
	j, p := job.New[string](job.Info{Location: "Server01"}, nil, job.Options{Table: &job.Table{}})
	j.Subscribe(func(c job.StateChange) { fmt.Println("state:", c.Previous, "->", c.State) })

	_ = p.SetState(job.Running, nil)
	_ = p.Emit(ctx, "Return 1")
	_ = p.Emit(ctx, "Return 2")
	_ = p.SetState(job.Disconnected, nil) // Disconnect-PSSession
	got, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
	fmt.Println(got, j.HasMoreData())

	_ = p.SetState(job.Running, nil) // Connect-PSSession, Receive-PSSession
	_ = p.Emit(ctx, "Return 3")
	got, _ = j.Receive(ctx, job.ReceiveOptions{})
	fmt.Println(got)
	// Output:
	// state: NotStarted -> Running
	// state: Running -> Disconnected
	// [Return 1 Return 2] true
	// state: Disconnected -> Running
	// [Return 1 Return 2 Return 3]
}

// A parent job with one child per session, as Invoke-Command -AsJob makes
// for several computers; the table lists the parent (Get-Job).
func ExampleNewParent() {
	ctx := context.Background()
	tb := &job.Table{}
	a, pa := job.New[string](job.Info{Location: "Server01"}, nil, job.Options{Table: tb})
	b, pb := job.New[string](job.Info{Location: "Server02"}, nil, job.Options{Table: tb})
	parent := job.NewParent(job.Info{Name: "Date", TypeName: "RemoteJob"}, job.Options{Table: tb}, a, b)

	_ = pb.Emit(ctx, "from Server02")
	_ = pa.Emit(ctx, "from Server01")
	_ = pa.SetState(job.Completed, nil)
	_ = pb.SetState(job.Running, nil)
	fmt.Println(parent.State(), parent.Location())
	_ = pb.SetState(job.Completed, nil)

	got, _ := parent.Receive(ctx, job.ReceiveOptions{Wait: true})
	for _, h := range tb.List() {
		fmt.Println(h.Name(), h.State(), h.HasMoreData(), len(h.ChildHandles()))
	}
	fmt.Println(got)
	// Output:
	// Running Server01,Server02
	// Date Completed false 2
	// [from Server01 from Server02]
}

// Get-Job -Name takes PowerShell wildcards, case-insensitively.
func ExampleTable_ByName() {
	tb := &job.Table{}
	job.New[int](job.Info{Name: "ADJob"}, nil, job.Options{Table: tb})
	job.New[int](job.Info{Name: "Backup"}, nil, job.Options{Table: tb})
	found, _ := tb.ByName("ad*")
	for _, h := range found {
		fmt.Println(h.Name())
	}
	// Output:
	// ADJob
}
