package psrp

import (
	"github.com/psremoting/psremoting/psrp/clixml"
)

// SessionCapability is the data of SESSION_CAPABILITY (MS-PSRP 2.2.2.1),
// sent by both sides first.
type SessionCapability struct {
	ProtocolVersion      string // e.g. "2.3"
	PSVersion            string // e.g. "2.0"
	SerializationVersion string // e.g. "1.1.0.1"
	// TimeZone is the optional serialized client time zone (<BA N="TimeZone">);
	// nil when absent.
	TimeZone []byte
	Raw      *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageSessionCapability.
func (*SessionCapability) MessageType() MessageType { return MessageSessionCapability }

// ToCLIXML encodes the capability as .NET does.
func (x *SessionCapability) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeSessionCapability) {
		return x.Raw
	}
	o := msObject(
		prop("protocolversion", clixml.Version(x.ProtocolVersion)),
		prop("PSVersion", clixml.Version(x.PSVersion)),
		prop("SerializationVersion", clixml.Version(x.SerializationVersion)),
	)
	if x.TimeZone != nil {
		o.Extended = append(o.Extended, prop("TimeZone", clixml.Bytes(x.TimeZone)))
	}
	return keepUnknown(o, x.Raw)
}

// DecodeSessionCapability decodes SESSION_CAPABILITY data.
func DecodeSessionCapability(v clixml.Value) (*SessionCapability, error) {
	r, err := newReader("SESSION_CAPABILITY", v)
	if err != nil {
		return nil, err
	}
	x := &SessionCapability{
		ProtocolVersion:      r.version("protocolversion", true),
		PSVersion:            r.version("PSVersion", true),
		SerializationVersion: r.version("SerializationVersion", true),
		Raw:                  r.o,
	}
	if tz := r.get("TimeZone", false); !isNil(tz) {
		b, ok := tz.(clixml.Bytes)
		if !ok {
			r.fail("TimeZone", "expected <BA>, got %s", describe(tz))
		}
		x.TimeZone = []byte(b)
	}
	return x, r.err
}

// InitRunspacePool is the data of INIT_RUNSPACEPOOL (MS-PSRP 2.2.2.2).
type InitRunspacePool struct {
	// MinRunspaces is the MinRunspaces property, the fewest runspaces the
	// pool keeps open.
	MinRunspaces int32
	// MaxRunspaces is the MaxRunspaces property, the most runspaces the
	// pool runs at once.
	MaxRunspaces int32
	// ThreadOptions is the PSThreadOptions property, how the pool uses
	// threads.
	ThreadOptions PSThreadOptions
	// ApartmentState is the ApartmentState property, the COM apartment of
	// the runspace threads.
	ApartmentState ApartmentState
	// ApartmentStateType is the .NET type name of the ApartmentState enum
	// ("" writes TypeApartmentState, System.Threading.ApartmentState, as
	// PowerShell 7 does; Windows PowerShell 5.1 clients and pypsrp write
	// TypeApartmentStateOld).
	ApartmentStateType string
	// HostInfo describes the client's host (the HostInfo property).
	HostInfo HostInfo
	// ApplicationArguments is a PSPrimitiveDictionary (see
	// NewPSPrimitiveDictionary) or nil. .NET clients put their
	// PSVersionTable in it.
	ApplicationArguments *clixml.Object
	Raw                  *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageInitRunspacePool.
func (*InitRunspacePool) MessageType() MessageType { return MessageInitRunspacePool }

// ToCLIXML encodes the message in the property order of PowerShell 7.
func (x *InitRunspacePool) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeInitRunspacePool) {
		return x.Raw
	}
	var args clixml.Value = clixml.Nil{}
	if x.ApplicationArguments != nil {
		args = x.ApplicationArguments
	}
	o := msObject(
		prop("MinRunspaces", clixml.Int32(x.MinRunspaces)),
		prop("MaxRunspaces", clixml.Int32(x.MaxRunspaces)),
		prop("PSThreadOptions", EnumValue(TypePSThreadOptions, x.ThreadOptions.String(), int32(x.ThreadOptions))),
		prop("ApartmentState", apartmentValue(x.ApartmentState, x.ApartmentStateType)),
		prop("ApplicationArguments", args),
		prop("HostInfo", x.HostInfo.ToCLIXML()),
	)
	return keepUnknown(o, x.Raw)
}

func apartmentValue(a ApartmentState, typ string) *clixml.Object {
	if typ == "" {
		typ = TypeApartmentState
	}
	name := a.String()
	if typ == TypeApartmentStateOld && a == ApartmentUnknown {
		name = "UNKNOWN" // what Windows PowerShell 5.1 and pypsrp write
	}
	return EnumValue(typ, name, int32(a))
}

func enumTypeName(v clixml.Value) string {
	if o, ok := v.(*clixml.Object); ok {
		return o.TypeName()
	}
	return ""
}

// DecodeInitRunspacePool decodes INIT_RUNSPACEPOOL data.
func DecodeInitRunspacePool(v clixml.Value) (*InitRunspacePool, error) {
	r, err := newReader("INIT_RUNSPACEPOOL", v)
	if err != nil {
		return nil, err
	}
	x := &InitRunspacePool{
		MinRunspaces:       r.int32("MinRunspaces", true),
		MaxRunspaces:       r.int32("MaxRunspaces", true),
		ThreadOptions:      PSThreadOptions(r.int32("PSThreadOptions", true)),
		ApartmentState:     ApartmentState(r.int32("ApartmentState", true)),
		ApartmentStateType: enumTypeName(r.get("ApartmentState", false)),
		Raw:                r.o,
	}
	if x.ApartmentStateType == TypeApartmentState {
		x.ApartmentStateType = ""
	}
	x.ApplicationArguments = r.object("ApplicationArguments", false)
	if hi := r.object("HostInfo", true); hi != nil {
		h, err := DecodeHostInfo(hi)
		if err != nil && r.err == nil {
			r.err = err
		}
		if h != nil {
			x.HostInfo = *h
		}
	}
	return x, r.err
}

// ConnectRunspacePool is the data of CONNECT_RUNSPACEPOOL (MS-PSRP
// 2.2.2.29), sent by a new client to connect to a disconnected pool.
type ConnectRunspacePool struct {
	// HasCounts says whether MinRunspaces and MaxRunspaces are given. Without
	// them the server keeps the pool's values.
	HasCounts bool
	// MinRunspaces is the MinRunspaces property, the pool's minimum
	// runspace count (when HasCounts).
	MinRunspaces int32
	// MaxRunspaces is the MaxRunspaces property, the pool's maximum
	// runspace count (when HasCounts).
	MaxRunspaces int32
	// Raw is the decoded value: an object, or the <S /> pypsrp sends.
	Raw clixml.Value
}

// MessageType returns MessageConnectRunspacePool.
func (*ConnectRunspacePool) MessageType() MessageType { return MessageConnectRunspacePool }

// ToCLIXML writes an object with MinRunspaces and MaxRunspaces when
// HasCounts is set. Without counts it writes an empty string (<S></S>), the
// data the specification's second example describes and the one pypsrp
// sends, which Windows accepts (recordings test_psrp_disconnect_runspaces
// and test_psrp_disconnected_commands). .NET itself sends a property-less
// object; no capture of that was available.
func (x *ConnectRunspacePool) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeConnectRunspacePool) {
		return x.Raw
	}
	if !x.HasCounts {
		return clixml.String("")
	}
	return msObject(
		prop("MinRunspaces", clixml.Int32(x.MinRunspaces)),
		prop("MaxRunspaces", clixml.Int32(x.MaxRunspaces)),
	)
}

// DecodeConnectRunspacePool decodes CONNECT_RUNSPACEPOOL data: an object
// with or without MinRunspaces/MaxRunspaces, or a string (pypsrp sends
// <S />, the specification's example an empty string).
func DecodeConnectRunspacePool(v clixml.Value) (*ConnectRunspacePool, error) {
	if _, ok := v.(clixml.String); ok {
		return &ConnectRunspacePool{Raw: v}, nil
	}
	r, err := newReader("CONNECT_RUNSPACEPOOL", v)
	if err != nil {
		return nil, err
	}
	x := &ConnectRunspacePool{Raw: v}
	_, hasMin := r.o.Property("MinRunspaces")
	_, hasMax := r.o.Property("MaxRunspaces")
	if hasMin || hasMax {
		x.HasCounts = true
		x.MinRunspaces = r.int32("MinRunspaces", true)
		x.MaxRunspaces = r.int32("MaxRunspaces", true)
	}
	return x, r.err
}

// RunspacePoolInitData is the data of RUNSPACEPOOL_INIT_DATA (MS-PSRP
// 2.2.2.30), the server's answer to CONNECT_RUNSPACEPOOL.
type RunspacePoolInitData struct {
	// MinRunspaces is the MinRunspaces property, the pool's current
	// minimum runspace count.
	MinRunspaces int32
	// MaxRunspaces is the MaxRunspaces property, the pool's current
	// maximum runspace count.
	MaxRunspaces int32
	Raw          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageRunspacePoolInitData.
func (*RunspacePoolInitData) MessageType() MessageType { return MessageRunspacePoolInitData }

// ToCLIXML encodes the message.
func (x *RunspacePoolInitData) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeRunspacePoolInitData) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("MinRunspaces", clixml.Int32(x.MinRunspaces)),
		prop("MaxRunspaces", clixml.Int32(x.MaxRunspaces)),
	), x.Raw)
}

// DecodeRunspacePoolInitData decodes RUNSPACEPOOL_INIT_DATA data.
func DecodeRunspacePoolInitData(v clixml.Value) (*RunspacePoolInitData, error) {
	r, err := newReader("RUNSPACEPOOL_INIT_DATA", v)
	if err != nil {
		return nil, err
	}
	return &RunspacePoolInitData{
		MinRunspaces: r.int32("MinRunspaces", true),
		MaxRunspaces: r.int32("MaxRunspaces", true),
		Raw:          r.o,
	}, r.err
}

// SetMaxRunspaces is the data of SET_MAX_RUNSPACES (MS-PSRP 2.2.2.6).
type SetMaxRunspaces struct {
	// MaxRunspaces is the MaxRunspaces property, the new maximum.
	MaxRunspaces int32
	CallID       int64          // "CI"; echoed as "ci" in RUNSPACE_AVAILABILITY
	Raw          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageSetMaxRunspaces.
func (*SetMaxRunspaces) MessageType() MessageType { return MessageSetMaxRunspaces }

// ToCLIXML encodes the message.
func (x *SetMaxRunspaces) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeSetMaxRunspaces) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("MaxRunspaces", clixml.Int32(x.MaxRunspaces)),
		prop("CI", clixml.Int64(x.CallID)),
	), x.Raw)
}

// DecodeSetMaxRunspaces decodes SET_MAX_RUNSPACES data.
func DecodeSetMaxRunspaces(v clixml.Value) (*SetMaxRunspaces, error) {
	r, err := newReader("SET_MAX_RUNSPACES", v)
	if err != nil {
		return nil, err
	}
	return &SetMaxRunspaces{MaxRunspaces: r.int32("MaxRunspaces", true), CallID: r.int64("CI", true), Raw: r.o}, r.err
}

// SetMinRunspaces is the data of SET_MIN_RUNSPACES (MS-PSRP 2.2.2.7).
type SetMinRunspaces struct {
	// MinRunspaces is the MinRunspaces property, the new minimum.
	MinRunspaces int32
	CallID       int64          // "CI"
	Raw          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageSetMinRunspaces.
func (*SetMinRunspaces) MessageType() MessageType { return MessageSetMinRunspaces }

// ToCLIXML encodes the message.
func (x *SetMinRunspaces) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeSetMinRunspaces) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("MinRunspaces", clixml.Int32(x.MinRunspaces)),
		prop("CI", clixml.Int64(x.CallID)),
	), x.Raw)
}

// DecodeSetMinRunspaces decodes SET_MIN_RUNSPACES data.
func DecodeSetMinRunspaces(v clixml.Value) (*SetMinRunspaces, error) {
	r, err := newReader("SET_MIN_RUNSPACES", v)
	if err != nil {
		return nil, err
	}
	return &SetMinRunspaces{MinRunspaces: r.int32("MinRunspaces", true), CallID: r.int64("CI", true), Raw: r.o}, r.err
}

// RunspaceAvailability is the data of RUNSPACE_AVAILABILITY (MS-PSRP
// 2.2.2.8): the answer to SET_MAX/MIN_RUNSPACES (a Boolean) and to
// GET_AVAILABLE_RUNSPACES (a count, which Windows sends as <I32>) and
// RESET_RUNSPACE_STATE (a Boolean).
type RunspaceAvailability struct {
	CallID int64 // "ci", the call being answered
	// IsCount says the response is a number rather than a Boolean.
	IsCount bool
	// Success is the Boolean response (IsCount false).
	Success bool
	// Count is the number of available runspaces (IsCount true).
	Count int64
	Raw   *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageRunspaceAvailability.
func (*RunspaceAvailability) MessageType() MessageType { return MessageRunspaceAvailability }

// ToCLIXML encodes the message.
func (x *RunspaceAvailability) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeRunspaceAvailability) {
		return x.Raw
	}
	var resp clixml.Value = clixml.Bool(x.Success)
	if x.IsCount {
		// Windows writes the count of GET_AVAILABLE_RUNSPACES as <I32>.
		resp = clixml.Int64(x.Count)
		if x.Count >= -1<<31 && x.Count <= 1<<31-1 {
			resp = clixml.Int32(x.Count)
		}
	}
	return keepUnknown(msObject(
		prop("SetMinMaxRunspacesResponse", resp),
		prop("ci", clixml.Int64(x.CallID)),
	), x.Raw)
}

// DecodeRunspaceAvailability decodes RUNSPACE_AVAILABILITY data.
func DecodeRunspaceAvailability(v clixml.Value) (*RunspaceAvailability, error) {
	r, err := newReader("RUNSPACE_AVAILABILITY", v)
	if err != nil {
		return nil, err
	}
	x := &RunspaceAvailability{CallID: r.int64("ci", true), Raw: r.o}
	switch resp := r.get("SetMinMaxRunspacesResponse", true).(type) {
	case nil:
	case clixml.Bool:
		x.Success = bool(resp)
	default:
		n, ok := clixml.AsInt64(resp)
		if !ok {
			r.fail("SetMinMaxRunspacesResponse", "expected <B> or <I64>, got %s", describe(resp))
		}
		x.IsCount, x.Count = true, n
	}
	return x, r.err
}

// RunspacePoolStateInfo is the data of RUNSPACEPOOL_STATE (MS-PSRP 2.2.2.9).
type RunspacePoolStateInfo struct {
	// State is the RunspaceState property, the pool's new state.
	State RunspacePoolState
	// Error is the ExceptionAsErrorRecord property, sent with Broken (and
	// sometimes Closed); nil when absent.
	Error *ErrorRecord
	Raw   *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageRunspacePoolState.
func (*RunspacePoolStateInfo) MessageType() MessageType { return MessageRunspacePoolState }

// ToCLIXML encodes the message.
func (x *RunspacePoolStateInfo) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeRunspacePoolStateInfo) {
		return x.Raw
	}
	o := msObject(prop("RunspaceState", clixml.Int32(x.State)))
	if x.Error != nil {
		o.Extended = append(o.Extended, prop("ExceptionAsErrorRecord", x.Error.ToCLIXML()))
	}
	return keepUnknown(o, x.Raw)
}

// DecodeRunspacePoolStateInfo decodes RUNSPACEPOOL_STATE data.
func DecodeRunspacePoolStateInfo(v clixml.Value) (*RunspacePoolStateInfo, error) {
	r, err := newReader("RUNSPACEPOOL_STATE", v)
	if err != nil {
		return nil, err
	}
	x := &RunspacePoolStateInfo{State: RunspacePoolState(r.int32("RunspaceState", true)), Raw: r.o}
	if eo := r.object("ExceptionAsErrorRecord", false); eo != nil {
		x.Error, err = DecodeErrorRecord(eo)
		if err != nil && r.err == nil {
			r.err = err
		}
	}
	return x, r.err
}

// GetAvailableRunspaces is the data of GET_AVAILABLE_RUNSPACES (MS-PSRP
// 2.2.2.11).
type GetAvailableRunspaces struct {
	CallID int64          // "ci"
	Raw    *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageGetAvailableRunspaces.
func (*GetAvailableRunspaces) MessageType() MessageType { return MessageGetAvailableRunspaces }

// ToCLIXML encodes the message.
func (x *GetAvailableRunspaces) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeGetAvailableRunspaces) {
		return x.Raw
	}
	return keepUnknown(msObject(prop("ci", clixml.Int64(x.CallID))), x.Raw)
}

// DecodeGetAvailableRunspaces decodes GET_AVAILABLE_RUNSPACES data.
func DecodeGetAvailableRunspaces(v clixml.Value) (*GetAvailableRunspaces, error) {
	r, err := newReader("GET_AVAILABLE_RUNSPACES", v)
	if err != nil {
		return nil, err
	}
	return &GetAvailableRunspaces{CallID: r.int64("ci", true), Raw: r.o}, r.err
}

// ResetRunspaceState is the data of RESET_RUNSPACE_STATE (MS-PSRP
// 2.2.2.31).
type ResetRunspaceState struct {
	CallID int64          // "ci"
	Raw    *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageResetRunspaceState.
func (*ResetRunspaceState) MessageType() MessageType { return MessageResetRunspaceState }

// ToCLIXML encodes the message.
func (x *ResetRunspaceState) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeResetRunspaceState) {
		return x.Raw
	}
	return keepUnknown(msObject(prop("ci", clixml.Int64(x.CallID))), x.Raw)
}

// DecodeResetRunspaceState decodes RESET_RUNSPACE_STATE data.
func DecodeResetRunspaceState(v clixml.Value) (*ResetRunspaceState, error) {
	r, err := newReader("RESET_RUNSPACE_STATE", v)
	if err != nil {
		return nil, err
	}
	return &ResetRunspaceState{CallID: r.int64("ci", true), Raw: r.o}, r.err
}

// ApplicationPrivateData is the data of APPLICATION_PRIVATE_DATA (MS-PSRP
// 2.2.2.13).
type ApplicationPrivateData struct {
	// Data is the ApplicationPrivateData PSPrimitiveDictionary (Windows puts
	// its PSVersionTable in it), or nil.
	Data *clixml.Object
	Raw  *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageApplicationPrivateData.
func (*ApplicationPrivateData) MessageType() MessageType { return MessageApplicationPrivateData }

// ToCLIXML encodes the message.
func (x *ApplicationPrivateData) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeApplicationPrivateData) {
		return x.Raw
	}
	var d clixml.Value = clixml.Nil{}
	if x.Data != nil {
		d = x.Data
	}
	return keepUnknown(msObject(prop("ApplicationPrivateData", d)), x.Raw)
}

// PSVersionTable returns the PSVersionTable entry of the data, or nil.
func (x *ApplicationPrivateData) PSVersionTable() *clixml.Object {
	if x == nil || x.Data == nil {
		return nil
	}
	v, _ := DictLookup(x.Data, "PSVersionTable").(*clixml.Object)
	return v
}

// DictLookup returns the value stored under the string key in a dictionary
// object, or nil.
func DictLookup(d *clixml.Object, key string) clixml.Value {
	if d == nil {
		return nil
	}
	for _, e := range d.Entries {
		if k, ok := e.Key.(clixml.String); ok && string(k) == key {
			return e.Value
		}
	}
	return nil
}

// DecodeApplicationPrivateData decodes APPLICATION_PRIVATE_DATA data.
func DecodeApplicationPrivateData(v clixml.Value) (*ApplicationPrivateData, error) {
	r, err := newReader("APPLICATION_PRIVATE_DATA", v)
	if err != nil {
		return nil, err
	}
	x := &ApplicationPrivateData{Raw: r.o}
	x.Data = r.object("ApplicationPrivateData", true)
	return x, r.err
}

// UserEvent is the data of USER_EVENT (MS-PSRP 2.2.2.12), a PowerShell
// event forwarded from the server.
type UserEvent struct {
	// EventIdentifier is PSEventArgs.EventIdentifier, the event's id in
	// the server session.
	EventIdentifier int32
	// SourceIdentifier is PSEventArgs.SourceIdentifier, the name the
	// event was registered or raised under.
	SourceIdentifier string
	TimeGenerated    clixml.Value // <DT>; nil when absent
	// Sender is PSEventArgs.Sender, the object that raised the event; nil
	// when absent.
	Sender clixml.Value
	// SourceArgs is PSEventArgs.SourceArgs, the event's arguments
	// (usually a list); nil when absent.
	SourceArgs clixml.Value
	// MessageData is PSEventArgs.MessageData, data given when the event
	// was registered; nil when absent.
	MessageData clixml.Value
	// ComputerName is PSEventArgs.ComputerName, the machine the event
	// came from.
	ComputerName string
	RunspaceID   clixml.Value   // <G>
	Raw          *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageUserEvent.
func (*UserEvent) MessageType() MessageType { return MessageUserEvent }

// ToCLIXML encodes the message.
func (x *UserEvent) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeUserEvent) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("PSEventArgs.EventIdentifier", clixml.Int32(x.EventIdentifier)),
		prop("PSEventArgs.SourceIdentifier", clixml.String(x.SourceIdentifier)),
		prop("PSEventArgs.TimeGenerated", x.TimeGenerated),
		prop("PSEventArgs.Sender", x.Sender),
		prop("PSEventArgs.SourceArgs", x.SourceArgs),
		prop("PSEventArgs.MessageData", x.MessageData),
		prop("PSEventArgs.ComputerName", clixml.String(x.ComputerName)),
		prop("PSEventArgs.RunspaceId", x.RunspaceID),
	), x.Raw)
}

// DecodeUserEvent decodes USER_EVENT data.
func DecodeUserEvent(v clixml.Value) (*UserEvent, error) {
	r, err := newReader("USER_EVENT", v)
	if err != nil {
		return nil, err
	}
	opt := func(name string) clixml.Value {
		v := r.get(name, false)
		if isNil(v) {
			return nil
		}
		return v
	}
	return &UserEvent{
		EventIdentifier:  r.int32("PSEventArgs.EventIdentifier", true),
		SourceIdentifier: r.str("PSEventArgs.SourceIdentifier", false),
		TimeGenerated:    opt("PSEventArgs.TimeGenerated"),
		Sender:           opt("PSEventArgs.Sender"),
		SourceArgs:       opt("PSEventArgs.SourceArgs"),
		MessageData:      opt("PSEventArgs.MessageData"),
		ComputerName:     r.str("PSEventArgs.ComputerName", false),
		RunspaceID:       opt("PSEventArgs.RunspaceId"),
		Raw:              r.o,
	}, r.err
}
