package psrp

import (
	"github.com/psremoting/psremoting/psrp/clixml"
)

// Keys of HostDefaultData (MS-PSRP 2.2.3.13), the host's initial values
// sent in HostInfo._hostDefaultData.
const (
	HostDataForegroundColor       = 0
	HostDataBackgroundColor       = 1
	HostDataCursorPosition        = 2
	HostDataWindowPosition        = 3
	HostDataCursorSize            = 4
	HostDataBufferSize            = 5
	HostDataWindowSize            = 6
	HostDataMaxWindowSize         = 7
	HostDataMaxPhysicalWindowSize = 8
	HostDataWindowTitle           = 9
)

// HostDefaultValue is one entry of HostDefaultData: the .NET type name of
// the value (e.g. "System.ConsoleColor", "System.Management.Automation.Host.Size")
// and the value itself.
type HostDefaultValue struct {
	// Key is the entry's key, one of the HostData* constants (0 to 9).
	Key int32
	// Type is the .NET type name of the value (the entry's T).
	Type string
	// Value is the value itself (the entry's V).
	Value clixml.Value
}

// HostInfo describes the client's host (MS-PSRP 2.2.3.14), sent in
// INIT_RUNSPACEPOOL and CREATE_PIPELINE.
type HostInfo struct {
	// IsHostNull is _isHostNull: the client has no host.
	IsHostNull bool
	// IsHostUINull is _isHostUINull: the host has no user interface.
	IsHostUINull bool
	// IsHostRawUINull is _isHostRawUINull: the host UI has no raw UI.
	IsHostRawUINull bool
	// UseRunspaceHost is _useRunspaceHost: a pipeline uses the pool's host
	// rather than its own.
	UseRunspaceHost bool
	// DefaultData holds the host's default data in wire order; nil when the
	// _hostDefaultData property is absent.
	DefaultData []HostDefaultValue
	Raw         *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// NoHost returns the HostInfo of a client without a host: every "null"
// flag set and UseRunspaceHost true.
func NoHost() HostInfo {
	return HostInfo{IsHostNull: true, IsHostUINull: true, IsHostRawUINull: true, UseRunspaceHost: true}
}

// ToCLIXML encodes the HostInfo in the property order of PowerShell 7.
func (x *HostInfo) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeHostInfo) {
		return x.Raw
	}
	o := msObject(
		prop("_isHostUINull", clixml.Bool(x.IsHostUINull)),
		prop("_isHostRawUINull", clixml.Bool(x.IsHostRawUINull)),
		prop("_isHostNull", clixml.Bool(x.IsHostNull)),
	)
	if x.DefaultData != nil {
		entries := make([]clixml.DictEntry, 0, len(x.DefaultData))
		for _, d := range x.DefaultData {
			entries = append(entries, clixml.DictEntry{
				Key:   clixml.Int32(d.Key),
				Value: msObject(prop("T", clixml.String(d.Type)), prop("V", d.Value)),
			})
		}
		data := &clixml.Object{TypeNames: []string{typeHashtable, typeObject}, Kind: clixml.Dictionary, Entries: entries}
		o.Extended = append(o.Extended, prop("_hostDefaultData", msObject(prop("data", data))))
	}
	o.Extended = append(o.Extended, prop("_useRunspaceHost", clixml.Bool(x.UseRunspaceHost)))
	return keepUnknown(o, x.Raw)
}

// DecodeHostInfo decodes a HostInfo object.
func DecodeHostInfo(v clixml.Value) (*HostInfo, error) {
	r, err := newReader("HostInfo", v)
	if err != nil {
		return nil, err
	}
	x := &HostInfo{
		IsHostNull:      r.bool("_isHostNull", false),
		IsHostUINull:    r.bool("_isHostUINull", false),
		IsHostRawUINull: r.bool("_isHostRawUINull", false),
		UseRunspaceHost: r.bool("_useRunspaceHost", false),
		Raw:             r.o,
	}
	if hd := r.object("_hostDefaultData", false); hd != nil {
		hr := &reader{name: "HostInfo._hostDefaultData", o: hd}
		data := hr.object("data", true)
		x.DefaultData = []HostDefaultValue{}
		if data != nil {
			for _, e := range data.Entries {
				k, ok := clixml.AsInt64(e.Key)
				if !ok || k < -1<<31 || k > 1<<31-1 {
					hr.fail("data", "key %s is not a 32-bit integer", describe(e.Key))
					break
				}
				er, err := newReader("HostInfo._hostDefaultData entry", e.Value)
				if err != nil {
					hr.fail("data", "entry %d: %v", k, err)
					break
				}
				x.DefaultData = append(x.DefaultData, HostDefaultValue{Key: int32(k), Type: er.str("T", false),
					Value: er.get("V", false)})
				if er.err != nil {
					hr.err = er.err
				}
			}
		}
		if hr.err != nil && r.err == nil {
			r.err = hr.err
		}
	}
	return x, r.err
}

// HostCall is the data of RUNSPACEPOOL_HOST_CALL (MS-PSRP 2.2.2.27) and
// PIPELINE_HOST_CALL (2.2.2.28): the server asks the client's host to run a
// method.
type HostCall struct {
	// Pipeline selects PIPELINE_HOST_CALL rather than RUNSPACEPOOL_HOST_CALL.
	Pipeline bool
	CallID   int64 // "ci"; negative for calls that expect no response
	// MethodID is the host method to call ("mi").
	MethodID HostMethodID
	Params   []clixml.Value // "mp"
	Raw      *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessagePipelineHostCall or MessageRunspacePoolHostCall.
func (x *HostCall) MessageType() MessageType {
	if x.Pipeline {
		return MessagePipelineHostCall
	}
	return MessageRunspacePoolHostCall
}

// ToCLIXML encodes the call as .NET does (parameters in an ArrayList).
func (x *HostCall) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, decodeHostCallKeep(x.Pipeline)) {
		return x.Raw
	}
	return keepUnknown(msObject(
		prop("ci", clixml.Int64(x.CallID)),
		prop("mi", EnumValue(TypeHostMethodID, x.MethodID.String(), int32(x.MethodID))),
		prop("mp", listObject(typeArrayList, x.Params)),
	), x.Raw)
}

func decodeHostCallKeep(pipeline bool) func(clixml.Value) (*HostCall, error) {
	return func(v clixml.Value) (*HostCall, error) {
		x, err := DecodeHostCall(v)
		if x != nil {
			x.Pipeline = pipeline
		}
		return x, err
	}
}

// DecodeHostCall decodes RUNSPACEPOOL_HOST_CALL or PIPELINE_HOST_CALL data.
// The caller sets Pipeline from the message type (DecodeMessageData does).
func DecodeHostCall(v clixml.Value) (*HostCall, error) {
	r, err := newReader("HOST_CALL", v)
	if err != nil {
		return nil, err
	}
	return &HostCall{
		CallID:   r.int64("ci", true),
		MethodID: HostMethodID(r.int32("mi", true)),
		Params:   r.list("mp"),
		Raw:      r.o,
	}, r.err
}

// HostResponse is the data of RUNSPACEPOOL_HOST_RESPONSE (MS-PSRP
// 2.2.2.15) and PIPELINE_HOST_RESPONSE (2.2.2.16): the client's answer to a
// host call.
type HostResponse struct {
	// Pipeline selects PIPELINE_HOST_RESPONSE.
	Pipeline bool
	CallID   int64 // "ci" of the call
	// MethodID is the host method answered ("mi").
	MethodID HostMethodID
	// Return is the return value ("mr"); nil when absent.
	Return clixml.Value
	// Exception is the error ("me"), an ErrorRecord object; nil when absent.
	Exception clixml.Value
	Raw       *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessagePipelineHostResponse or
// MessageRunspacePoolHostResponse.
func (x *HostResponse) MessageType() MessageType {
	if x.Pipeline {
		return MessagePipelineHostResponse
	}
	return MessageRunspacePoolHostResponse
}

// ToCLIXML encodes the response.
func (x *HostResponse) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, decodeHostResponseKeep(x.Pipeline)) {
		return x.Raw
	}
	o := msObject(
		prop("ci", clixml.Int64(x.CallID)),
		prop("mi", EnumValue(TypeHostMethodID, x.MethodID.String(), int32(x.MethodID))),
	)
	if x.Return != nil {
		o.Extended = append(o.Extended, prop("mr", x.Return))
	}
	if x.Exception != nil {
		o.Extended = append(o.Extended, prop("me", x.Exception))
	}
	return keepUnknown(o, x.Raw)
}

func decodeHostResponseKeep(pipeline bool) func(clixml.Value) (*HostResponse, error) {
	return func(v clixml.Value) (*HostResponse, error) {
		x, err := DecodeHostResponse(v)
		if x != nil {
			x.Pipeline = pipeline
		}
		return x, err
	}
}

// DecodeHostResponse decodes RUNSPACEPOOL_HOST_RESPONSE or
// PIPELINE_HOST_RESPONSE data. The caller sets Pipeline.
func DecodeHostResponse(v clixml.Value) (*HostResponse, error) {
	r, err := newReader("HOST_RESPONSE", v)
	if err != nil {
		return nil, err
	}
	return &HostResponse{
		CallID:    r.int64("ci", true),
		MethodID:  HostMethodID(r.int32("mi", true)),
		Return:    r.get("mr", false),
		Exception: r.get("me", false),
		Raw:       r.o,
	}, r.err
}
