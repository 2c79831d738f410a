package psrp_test

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
)

// A client queues SESSION_CAPABILITY and INIT_RUNSPACEPOOL and cuts them
// into payloads of at most 300 bytes (in practice the size comes from the
// negotiated MaxEnvelopeSize); a server reassembles them.
func ExampleFragmenter() {
	rpid := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	capability, _ := psrp.NewMessageFor(psrp.DestinationServer, rpid, uuid.Nil,
		&psrp.SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"})
	init, _ := psrp.NewMessageFor(psrp.DestinationServer, rpid, uuid.Nil, &psrp.InitRunspacePool{
		MinRunspaces: 1, MaxRunspaces: 1, ApartmentState: psrp.ApartmentUnknown, HostInfo: psrp.NoHost()})

	fr := psrp.NewFragmenter(psrp.DefaultMaxFragmentSize, nil)
	fr.QueueMessage(capability, false)
	fr.QueueMessage(init, false)

	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	for fr.Len() > 0 {
		payload, err := fr.NextPayload(300)
		if err != nil {
			panic(err)
		}
		msgs, err := d.FeedMessages(payload)
		if err != nil {
			panic(err)
		}
		fmt.Printf("payload of %d bytes completes %d message(s)\n", len(payload), len(msgs))
		for _, m := range msgs {
			fmt.Println(" ", m.Type, m.RunspacePoolID)
		}
	}
	// Output:
	// payload of 300 bytes completes 1 message(s)
	//   SESSION_CAPABILITY b6631d8e-65a0-49f2-9053-a1b156c95777
	// payload of 300 bytes completes 0 message(s)
	// payload of 300 bytes completes 0 message(s)
	// payload of 147 bytes completes 1 message(s)
	//   INIT_RUNSPACEPOOL b6631d8e-65a0-49f2-9053-a1b156c95777
}

// Fragments of several messages may arrive interleaved and with ObjectIds
// out of order; messages come out in the order they complete.
func ExampleDefragmenter() {
	var payload []byte
	for _, f := range []psrp.Fragment{
		{ObjectID: 8, FragmentID: 0, Start: true, Blob: []byte("hello, ")},
		{ObjectID: 4, FragmentID: 0, Start: true, End: true, Blob: []byte("queued before the disconnect")},
		{ObjectID: 8, FragmentID: 1, End: true, Blob: []byte("world")},
	} {
		payload = f.AppendTo(payload)
	}
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{MaxMessageSize: 1 << 20})
	msgs, err := d.Feed(payload)
	if err != nil {
		panic(err)
	}
	for _, m := range msgs {
		fmt.Printf("%q\n", m)
	}
	// A gap is an error.
	_, err = d.Feed((&psrp.Fragment{ObjectID: 9, FragmentID: 3, End: true, Blob: []byte("x")}).AppendTo(nil))
	fmt.Println(err)
	// Output:
	// "queued before the disconnect"
	// "hello, world"
	// psrp: fragment sequence does not begin with a start fragment (ObjectId 9, FragmentId 3, payload offset 0): no earlier fragments of this ObjectId were received
}
