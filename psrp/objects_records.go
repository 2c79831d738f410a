package psrp

import (
	"fmt"
	"strings"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// ExceptionInfo is the serialized .NET exception inside an ErrorRecord.
type ExceptionInfo struct {
	// TypeNames are the exception type and its ancestors, most derived first
	// (e.g. "System.Management.Automation.RuntimeException", ...).
	TypeNames []string
	Message   string // the Message property
	ToString  string // usually "Type: Message" plus a stack trace
	// HResult is the HResult property, the exception's HRESULT error code
	// (a negative number such as -2146233087).
	HResult int32
	Raw     *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// TypeName returns the most derived exception type name, or "".
func (e *ExceptionInfo) TypeName() string {
	if e == nil || len(e.TypeNames) == 0 {
		return ""
	}
	return e.TypeNames[0]
}

// ToCLIXML encodes the exception with the adapted properties .NET writes.
func (e *ExceptionInfo) ToCLIXML() clixml.Value {
	if unchanged(e, e.Raw, DecodeExceptionInfo) {
		return e.Raw
	}
	tn := e.TypeNames
	if len(tn) == 0 {
		tn = []string{"System.Exception", typeObject}
	}
	ts := e.ToString
	if ts == "" {
		ts = tn[0] + ": " + e.Message
	}
	o := &clixml.Object{TypeNames: tn, ToString: ts, HasToString: true, Adapted: []clixml.Property{
		prop("Message", clixml.String(e.Message)),
		prop("Data", &clixml.Object{TypeNames: []string{"System.Collections.ListDictionaryInternal", typeObject},
			Kind: clixml.Dictionary}),
		prop("InnerException", nil),
		prop("TargetSite", nil),
		prop("StackTrace", nil),
		prop("HelpLink", nil),
		prop("Source", nil),
		prop("HResult", clixml.Int32(e.HResult)),
	}}
	return keepUnknown(o, e.Raw)
}

// DecodeExceptionInfo decodes a serialized exception.
func DecodeExceptionInfo(v clixml.Value) (*ExceptionInfo, error) {
	r, err := newReader("Exception", v)
	if err != nil {
		return nil, err
	}
	return &ExceptionInfo{
		TypeNames: r.o.TypeNames,
		Message:   r.str("Message", false),
		ToString:  r.o.ToString,
		HResult:   r.int32("HResult", false),
		Raw:       r.o,
	}, r.err
}

// ErrorRecord is a serialized System.Management.Automation.ErrorRecord
// (MS-PSRP 2.2.3.15): the data of ERROR_RECORD, and the
// ExceptionAsErrorRecord of RUNSPACEPOOL_STATE and PIPELINE_STATE.
type ErrorRecord struct {
	// Message is the record's display text (its ToString).
	Message string
	// Exception is the exception, or nil when the record has none.
	Exception    *ExceptionInfo
	TargetObject clixml.Value // nil when <Nil>
	// FullyQualifiedErrorID is the FullyQualifiedErrorId property, such as
	// "CommandNotFoundException" or "Oops,Invoke-Thing".
	FullyQualifiedErrorID string
	// InvocationInfo is the InvocationInfo object, or nil.
	InvocationInfo *clixml.Object
	// Category is the ErrorCategory_Category property, the CategoryInfo
	// category.
	Category ErrorCategory
	// Activity is ErrorCategory_Activity, usually the command that failed.
	Activity string
	// Reason is ErrorCategory_Reason, usually the exception's type name.
	Reason string
	// TargetName is ErrorCategory_TargetName, the target object's name.
	TargetName string
	// TargetType is ErrorCategory_TargetType, the target object's type.
	TargetType      string
	CategoryMessage string // ErrorCategory_Message, e.g. "NotSpecified: (:) [Write-Error], WriteErrorException"
	// ErrorDetailsMessage is ErrorDetails_Message, "" when absent.
	ErrorDetailsMessage string
	// ErrorDetailsRecommendedAction is ErrorDetails_RecommendedAction, ""
	// when absent.
	ErrorDetailsRecommendedAction string
	// ErrorDetailsScriptStackTrace is ErrorDetails_ScriptStackTrace, the
	// script call stack as text, "" when absent.
	ErrorDetailsScriptStackTrace string
	// SerializeExtendedInfo says the InvocationInfo_* / CommandInfo_* /
	// PipelineIterationInfo properties follow (kept in ExtendedInfo).
	SerializeExtendedInfo bool
	// ExtendedInfo holds those properties, in wire order.
	ExtendedInfo []clixml.Property
	// WriteErrorStream is the writeErrorStream flag of records written with
	// Write-Error; nil when absent.
	WriteErrorStream *bool
	// PSMessageDetails is the PSMessageDetails property Windows adds to
	// ERROR_RECORD messages: nil when absent; a pointer to "" is written as
	// <Nil>.
	PSMessageDetails *string
	Raw              *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageErrorRecord.
func (*ErrorRecord) MessageType() MessageType { return MessageErrorRecord }

// Error returns the record's message, so that an *ErrorRecord can be used as
// an error.
func (x *ErrorRecord) Error() string {
	if x.Message != "" {
		return x.Message
	}
	if x.Exception != nil && x.Exception.Message != "" {
		return x.Exception.Message
	}
	return x.FullyQualifiedErrorID
}

func isExtendedInfoProp(name string) bool {
	return strings.HasPrefix(name, "InvocationInfo_") || strings.HasPrefix(name, "CommandInfo_") ||
		name == "SerializeExtent" || name == "PipelineIterationInfo" || strings.HasPrefix(name, "ScriptExtent_")
}

// ToCLIXML encodes the record in the property order Windows uses.
func (x *ErrorRecord) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeErrorRecord) {
		return x.Raw
	}
	o := &clixml.Object{TypeNames: []string{TypeErrorRecord, typeObject}, ToString: x.Message, HasToString: true}
	add := func(name string, v clixml.Value) { o.Extended = append(o.Extended, prop(name, v)) }
	if x.WriteErrorStream != nil {
		add("writeErrorStream", clixml.Bool(*x.WriteErrorStream))
	}
	if x.Exception != nil {
		add("Exception", x.Exception.ToCLIXML())
	} else {
		add("Exception", nil)
	}
	add("TargetObject", x.TargetObject)
	add("FullyQualifiedErrorId", clixml.String(x.FullyQualifiedErrorID))
	if x.InvocationInfo != nil {
		add("InvocationInfo", x.InvocationInfo)
	} else {
		add("InvocationInfo", nil)
	}
	add("ErrorCategory_Category", clixml.Int32(x.Category))
	add("ErrorCategory_Activity", clixml.String(x.Activity))
	add("ErrorCategory_Reason", clixml.String(x.Reason))
	add("ErrorCategory_TargetName", clixml.String(x.TargetName))
	add("ErrorCategory_TargetType", clixml.String(x.TargetType))
	add("ErrorCategory_Message", clixml.String(x.CategoryMessage))
	if x.ErrorDetailsMessage != "" {
		add("ErrorDetails_Message", clixml.String(x.ErrorDetailsMessage))
	}
	if x.ErrorDetailsRecommendedAction != "" {
		add("ErrorDetails_RecommendedAction", clixml.String(x.ErrorDetailsRecommendedAction))
	}
	add("SerializeExtendedInfo", clixml.Bool(x.SerializeExtendedInfo))
	o.Extended = append(o.Extended, x.ExtendedInfo...)
	if x.ErrorDetailsScriptStackTrace != "" {
		add("ErrorDetails_ScriptStackTrace", clixml.String(x.ErrorDetailsScriptStackTrace))
	}
	if x.PSMessageDetails != nil {
		if *x.PSMessageDetails == "" {
			add("PSMessageDetails", nil)
		} else {
			add("PSMessageDetails", clixml.String(*x.PSMessageDetails))
		}
	}
	return keepUnknown(o, x.Raw)
}

// DecodeErrorRecord decodes a serialized ErrorRecord.
func DecodeErrorRecord(v clixml.Value) (*ErrorRecord, error) {
	r, err := newReader("ErrorRecord", v)
	if err != nil {
		return nil, err
	}
	x := &ErrorRecord{
		Message:                       r.o.ToString,
		FullyQualifiedErrorID:         r.str("FullyQualifiedErrorId", false),
		InvocationInfo:                r.object("InvocationInfo", false),
		Category:                      ErrorCategory(r.int32("ErrorCategory_Category", false)),
		Activity:                      r.str("ErrorCategory_Activity", false),
		Reason:                        r.str("ErrorCategory_Reason", false),
		TargetName:                    r.str("ErrorCategory_TargetName", false),
		TargetType:                    r.str("ErrorCategory_TargetType", false),
		CategoryMessage:               r.str("ErrorCategory_Message", false),
		ErrorDetailsMessage:           r.str("ErrorDetails_Message", false),
		ErrorDetailsRecommendedAction: r.str("ErrorDetails_RecommendedAction", false),
		ErrorDetailsScriptStackTrace:  r.str("ErrorDetails_ScriptStackTrace", false),
		SerializeExtendedInfo:         r.bool("SerializeExtendedInfo", false),
		WriteErrorStream:              r.optBool("writeErrorStream"),
		Raw:                           r.o,
	}
	if t := r.get("TargetObject", false); !isNil(t) {
		x.TargetObject = t
	}
	if _, ok := r.o.Property("PSMessageDetails"); ok {
		s := r.str("PSMessageDetails", false)
		x.PSMessageDetails = &s
	}
	if eo := r.object("Exception", false); eo != nil {
		x.Exception, err = DecodeExceptionInfo(eo)
		if err != nil && r.err == nil {
			r.err = err
		}
	}
	for _, p := range r.o.Extended {
		if isExtendedInfoProp(p.Name) {
			x.ExtendedInfo = append(x.ExtendedInfo, p)
		}
	}
	return x, r.err
}

// InformationalRecord is the data of DEBUG_RECORD, VERBOSE_RECORD and
// WARNING_RECORD (MS-PSRP 2.2.2.22-24): a serialized DebugRecord,
// VerboseRecord or WarningRecord.
type InformationalRecord struct {
	// Type is MessageDebugRecord, MessageVerboseRecord or
	// MessageWarningRecord.
	Type MessageType
	// Message is the InformationalRecord_Message property, the text.
	Message string
	// SerializeInvocationInfo says the InvocationInfo_* / CommandInfo_*
	// properties follow (kept in InvocationInfo).
	SerializeInvocationInfo bool
	// InvocationInfo holds those properties, and
	// InformationalRecord_PipelineIterationInfo, in wire order.
	InvocationInfo []clixml.Property
	Raw            *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns x.Type.
func (x *InformationalRecord) MessageType() MessageType { return x.Type }

func informationalTypeName(t MessageType) string {
	switch t {
	case MessageDebugRecord:
		return TypeDebugRecord
	case MessageVerboseRecord:
		return TypeVerboseRecord
	}
	return TypeWarningRecord
}

// ToCLIXML encodes the record.
func (x *InformationalRecord) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, decodeInformationalKeep(x.Type)) {
		return x.Raw
	}
	o := &clixml.Object{
		TypeNames:   []string{informationalTypeName(x.Type), TypeInformationalRecord, typeObject},
		ToString:    x.Message,
		HasToString: true,
		Extended: []clixml.Property{
			prop("InformationalRecord_Message", clixml.String(x.Message)),
			prop("InformationalRecord_SerializeInvocationInfo", clixml.Bool(x.SerializeInvocationInfo)),
		},
	}
	o.Extended = append(o.Extended, x.InvocationInfo...)
	return keepUnknown(o, x.Raw)
}

func decodeInformationalKeep(t MessageType) func(clixml.Value) (*InformationalRecord, error) {
	return func(v clixml.Value) (*InformationalRecord, error) {
		x, err := DecodeInformationalRecord(v)
		if x != nil {
			x.Type = t
		}
		return x, err
	}
}

// DecodeInformationalRecord decodes DEBUG_RECORD, VERBOSE_RECORD or
// WARNING_RECORD data. Type is taken from the type names when they say it
// (DecodeMessageData sets it from the message type).
func DecodeInformationalRecord(v clixml.Value) (*InformationalRecord, error) {
	r, err := newReader("InformationalRecord", v)
	if err != nil {
		return nil, err
	}
	x := &InformationalRecord{
		Message:                 r.str("InformationalRecord_Message", true),
		SerializeInvocationInfo: r.bool("InformationalRecord_SerializeInvocationInfo", false),
		Raw:                     r.o,
	}
	switch strings.TrimPrefix(r.o.TypeName(), "Deserialized.") {
	case TypeDebugRecord:
		x.Type = MessageDebugRecord
	case TypeVerboseRecord:
		x.Type = MessageVerboseRecord
	default:
		x.Type = MessageWarningRecord
	}
	for _, p := range r.o.Extended {
		if isExtendedInfoProp(p.Name) || p.Name == "InformationalRecord_PipelineIterationInfo" {
			x.InvocationInfo = append(x.InvocationInfo, p)
		}
	}
	return x, r.err
}

// InformationRecord is the data of INFORMATION_RECORD (MS-PSRP 2.2.2.26,
// protocol 2.3 and later): a serialized InformationRecord.
type InformationRecord struct {
	MessageData clixml.Value // any object; nil for <Nil>
	// Source is the Source property, the command or script that wrote the
	// record.
	Source        string
	TimeGenerated clixml.Value // <DT>; nil when absent
	// Tags is the Tags property (e.g. "PSHOST" for Write-Host output).
	Tags []string
	// User is the User property, the account the command ran as
	// (DOMAIN\user).
	User string
	// Computer is the Computer property, the name of the machine.
	Computer string
	// ProcessID is the ProcessId property, the server process id.
	ProcessID uint32
	// NativeThreadID is the NativeThreadId property, the OS thread id.
	NativeThreadID uint32
	// ManagedThreadID is the ManagedThreadId property, the .NET thread id.
	ManagedThreadID uint32
	Raw             *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageInformationRecord.
func (*InformationRecord) MessageType() MessageType { return MessageInformationRecord }

const typeStringList = "System.Collections.Generic.List`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]"

// ToCLIXML encodes the record.
func (x *InformationRecord) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeInformationRecord) {
		return x.Raw
	}
	tags := make([]clixml.Value, len(x.Tags))
	for i, t := range x.Tags {
		tags[i] = clixml.String(t)
	}
	return keepUnknown(msObject(
		prop("MessageData", x.MessageData),
		prop("Source", clixml.String(x.Source)),
		prop("TimeGenerated", x.TimeGenerated),
		prop("Tags", listObject(typeStringList, tags)),
		prop("User", clixml.String(x.User)),
		prop("Computer", clixml.String(x.Computer)),
		prop("ProcessId", clixml.UInt32(x.ProcessID)),
		prop("NativeThreadId", clixml.UInt32(x.NativeThreadID)),
		prop("ManagedThreadId", clixml.UInt32(x.ManagedThreadID)),
	), x.Raw)
}

// DecodeInformationRecord decodes INFORMATION_RECORD data.
func DecodeInformationRecord(v clixml.Value) (*InformationRecord, error) {
	r, err := newReader("INFORMATION_RECORD", v)
	if err != nil {
		return nil, err
	}
	x := &InformationRecord{
		Source:          r.str("Source", false),
		Tags:            r.strings("Tags"),
		User:            r.str("User", false),
		Computer:        r.str("Computer", false),
		ProcessID:       r.uint32("ProcessId", false),
		NativeThreadID:  r.uint32("NativeThreadId", false),
		ManagedThreadID: r.uint32("ManagedThreadId", false),
		Raw:             r.o,
	}
	if md := r.get("MessageData", true); !isNil(md) {
		x.MessageData = md
	}
	if t := r.get("TimeGenerated", false); !isNil(t) {
		x.TimeGenerated = t
	}
	return x, r.err
}

// ProgressRecord is the data of PROGRESS_RECORD (MS-PSRP 2.2.2.25).
type ProgressRecord struct {
	// Activity is the Activity property, the operation being reported.
	Activity string
	// ActivityID is the ActivityId property, which tells concurrent
	// activities apart.
	ActivityID int32
	// StatusDescription is the StatusDescription property, the current
	// status of the activity.
	StatusDescription string
	CurrentOperation  string // "" is written as <Nil>
	// ParentActivityID is the ParentActivityId property, the parent
	// activity's id or -1 for none.
	ParentActivityID int32
	// PercentComplete is the PercentComplete property, 0 to 100, or -1
	// when unknown.
	PercentComplete int32
	// RecordType is the Type property: Processing, or Completed for the
	// last record of an activity.
	RecordType ProgressRecordType
	// SecondsRemaining is the SecondsRemaining property, an estimate in
	// seconds, or -1 when unknown.
	SecondsRemaining int32
	Raw              *clixml.Object // decoded value, nil when built in Go (see MessageData)
}

// MessageType returns MessageProgressRecord.
func (*ProgressRecord) MessageType() MessageType { return MessageProgressRecord }

// ToCLIXML encodes the record.
func (x *ProgressRecord) ToCLIXML() clixml.Value {
	if unchanged(x, x.Raw, DecodeProgressRecord) {
		return x.Raw
	}
	var op clixml.Value = clixml.Nil{}
	if x.CurrentOperation != "" {
		op = clixml.String(x.CurrentOperation)
	}
	return keepUnknown(msObject(
		prop("Activity", clixml.String(x.Activity)),
		prop("ActivityId", clixml.Int32(x.ActivityID)),
		prop("StatusDescription", clixml.String(x.StatusDescription)),
		prop("CurrentOperation", op),
		prop("ParentActivityId", clixml.Int32(x.ParentActivityID)),
		prop("PercentComplete", clixml.Int32(x.PercentComplete)),
		prop("Type", EnumValue(TypeProgressRecordType, x.RecordType.String(), int32(x.RecordType))),
		prop("SecondsRemaining", clixml.Int32(x.SecondsRemaining)),
	), x.Raw)
}

// DecodeProgressRecord decodes PROGRESS_RECORD data.
func DecodeProgressRecord(v clixml.Value) (*ProgressRecord, error) {
	r, err := newReader("PROGRESS_RECORD", v)
	if err != nil {
		return nil, err
	}
	return &ProgressRecord{
		Activity:          r.str("Activity", true),
		ActivityID:        r.int32("ActivityId", true),
		StatusDescription: r.str("StatusDescription", false),
		CurrentOperation:  r.str("CurrentOperation", false),
		ParentActivityID:  r.int32("ParentActivityId", false),
		PercentComplete:   r.int32("PercentComplete", false),
		RecordType:        ProgressRecordType(r.int32("Type", false)),
		SecondsRemaining:  r.int32("SecondsRemaining", false),
		Raw:               r.o,
	}, r.err
}

// NewErrorRecord returns an ErrorRecord shaped like the ones Windows sends
// for a terminating error: an exception of type exceptionType (for example
// "System.Management.Automation.RuntimeException"; "" means that type) with
// message as its Message, the given FullyQualifiedErrorId and category, and
// the CategoryInfo text .NET derives from them
// ("Category: (TargetName:TargetType) [Activity], Reason").
func NewErrorRecord(message, fullyQualifiedErrorID string, category ErrorCategory, exceptionType string) *ErrorRecord {
	if exceptionType == "" {
		exceptionType = "System.Management.Automation.RuntimeException"
	}
	reason := exceptionType
	if i := strings.LastIndexByte(reason, '.'); i >= 0 {
		reason = reason[i+1:]
	}
	tn := []string{exceptionType}
	if exceptionType == "System.Management.Automation.RuntimeException" {
		tn = append(tn, "System.SystemException")
	}
	tn = append(tn, "System.Exception", typeObject)
	x := &ErrorRecord{
		Message: message,
		Exception: &ExceptionInfo{TypeNames: tn, Message: message, ToString: exceptionType + ": " + message,
			HResult: -2146233087},
		FullyQualifiedErrorID: fullyQualifiedErrorID,
		Category:              category,
		Reason:                reason,
	}
	x.CategoryMessage = fmt.Sprintf("%s: (%s:%s) [%s], %s", category, x.TargetName, x.TargetType, x.Activity, x.Reason)
	return x
}
