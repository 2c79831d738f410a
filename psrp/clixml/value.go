package clixml

import (
	"time"

	"github.com/google/uuid"
)

// Value is one CLIXML value: a primitive (String, Int32, ...), Nil, a
// ProgressRecord or an *Object. The set of implementations is closed: only
// the types of this package implement it.
type Value interface {
	// Tag returns the CLIXML element name of the value ("S", "I32", "Obj", ...).
	Tag() string
	isValue()
}

// Primitive types of MS-PSRP 2.2.5.1. Each is a named Go type so that a type
// switch tells them apart; convert with an ordinary conversion, for example
// string(v.(clixml.String)).
type (
	// Nil is the null value (<Nil/>).
	Nil struct{}
	// String is a System.String (<S>).
	String string
	// Char is a System.Char, one UTF-16 code unit (<C>).
	Char uint16
	// Bool is a System.Boolean (<B>).
	Bool bool
	// DateTime is a System.DateTime (<DT>). Raw keeps the text as it was
	// received, so that an unmodified value encodes to the same bytes; the
	// encoder writes Raw when it is set (it must be a valid xs:dateTime),
	// otherwise Time. Clear Raw after changing Time. A time without a zone
	// (.NET's DateTimeKind.Unspecified) decodes as UTC.
	DateTime struct {
		// Time is the instant.
		Time time.Time
		// Raw is the text as received, "" for a value built in Go.
		Raw string
	}
	// Duration is a System.TimeSpan (<TS>), in 100-nanosecond ticks as .NET
	// counts them.
	Duration int64
	// UInt8 is a System.Byte (<By>).
	UInt8 uint8
	// Int8 is a System.SByte (<SB>).
	Int8 int8
	// UInt16 is a System.UInt16 (<U16>).
	UInt16 uint16
	// Int16 is a System.Int16 (<I16>).
	Int16 int16
	// UInt32 is a System.UInt32 (<U32>).
	UInt32 uint32
	// Int32 is a System.Int32 (<I32>).
	Int32 int32
	// UInt64 is a System.UInt64 (<U64>).
	UInt64 uint64
	// Int64 is a System.Int64 (<I64>).
	Int64 int64
	// Float32 is a System.Single (<Sg>).
	Float32 float32
	// Float64 is a System.Double (<Db>).
	Float64 float64
	// Decimal is a System.Decimal (<D>), kept as its decimal text so that no
	// precision is lost.
	Decimal string
	// Bytes is a System.Byte[] (<BA>).
	Bytes []byte
	// GUID is a System.Guid (<G>).
	GUID uuid.UUID
	// URI is a System.Uri (<URI>).
	URI string
	// Version is a System.Version (<Version>), as its dotted text.
	Version string
	// XMLDocument is a System.Xml.XmlDocument (<XD>), as its XML text.
	XMLDocument string
	// ScriptBlock is a System.Management.Automation.ScriptBlock (<SBK>), as
	// its text.
	ScriptBlock string
	// SecureString is a System.Security.SecureString (<SS>): the encrypted
	// bytes as sent on the wire. Decrypting needs the session key exchanged
	// with PUBLIC_KEY / ENCRYPTED_SESSION_KEY.
	SecureString []byte
)

// ProgressRecord is a System.Management.Automation.ProgressRecord serialized
// as the <PR> element of CLIXML object streams. (The PSRP PROGRESS_RECORD
// message carries an ordinary Obj instead.)
type ProgressRecord struct {
	// Activity is <AV>, the operation being reported.
	Activity string
	// ActivityID is <AI>, which tells concurrent activities apart.
	ActivityID int32
	// ParentActivityID is <PI>, the parent activity's id or -1 for none.
	ParentActivityID int32
	// StatusDescription is <SD>, the current status of the activity.
	StatusDescription string
	CurrentOperation  string // empty when the record has none
	// PercentComplete is <PC>, 0 to 100, or -1 when unknown.
	PercentComplete int32
	// SecondsRemaining is <SR>, an estimate in seconds, or -1 when unknown.
	SecondsRemaining int32
	RecordType       string // "Processing" or "Completed"
}

// ContainerKind says which collection element, if any, an Object holds.
type ContainerKind uint8

// Container kinds of MS-PSRP 2.2.5.2.6.
const (
	NoContainer ContainerKind = iota
	List                      // <LST>
	Enumerable                // <IE>
	Queue                     // <QUE>
	Stack                     // <STK>
	Dictionary                // <DCT>
)

// Property is a named value: an adapted (<Props>) or extended (<MS>)
// property of an Object.
type Property struct {
	// Name is the property name (the N attribute).
	Name string
	// Value is the property value.
	Value Value
}

// DictEntry is one key/value pair of a dictionary (<DCT><En>).
type DictEntry struct {
	// Key is the entry's key (N="Key").
	Key Value
	// Value is the entry's value (N="Value").
	Value Value
}

// Object is a complex object (<Obj>).
//
// Decoding resolves <Ref> elements to the *Object they name, so two
// references to one serialized object share one *Object; encoding writes a
// <Ref> for an *Object already written in the same value.
type Object struct {
	// TypeNames lists the type and its ancestors, most derived first, as in
	// <TN>. It is nil when the object has no type names. Decoded objects
	// whose <TNRef> names the same <TN> share one slice: copy it before
	// changing its elements.
	TypeNames []string
	// ToString is the object's display string (<ToString>); HasToString says
	// whether the element was present.
	ToString string
	// HasToString says whether <ToString> was present (see ToString).
	HasToString bool
	// Inner is the primitive value held by the object itself, such as the
	// <I32> of an enum or the <S> of a deserialized string with notes; nil
	// when there is none. Windows occasionally nests a whole <Obj> here
	// (a PSObject wrapping another, seen in JEA output).
	Inner Value
	// Kind is the container the object holds; Items or Entries hold its
	// contents.
	Kind    ContainerKind
	Items   []Value     // for List, Enumerable, Queue and Stack
	Entries []DictEntry // for Dictionary
	// Adapted holds the <Props> properties and Extended the <MS> properties,
	// each in document order.
	Adapted []Property
	// Extended holds the <MS> properties in document order (see Adapted).
	Extended []Property
}

// Tag returns "Nil".
func (Nil) Tag() string { return "Nil" }

// Tag returns "S".
func (String) Tag() string { return "S" }

// Tag returns "C".
func (Char) Tag() string { return "C" }

// Tag returns "B".
func (Bool) Tag() string { return "B" }

// Tag returns "DT".
func (DateTime) Tag() string { return "DT" }

// Tag returns "TS".
func (Duration) Tag() string { return "TS" }

// Tag returns "By".
func (UInt8) Tag() string { return "By" }

// Tag returns "SB".
func (Int8) Tag() string { return "SB" }

// Tag returns "U16".
func (UInt16) Tag() string { return "U16" }

// Tag returns "I16".
func (Int16) Tag() string { return "I16" }

// Tag returns "U32".
func (UInt32) Tag() string { return "U32" }

// Tag returns "I32".
func (Int32) Tag() string { return "I32" }

// Tag returns "U64".
func (UInt64) Tag() string { return "U64" }

// Tag returns "I64".
func (Int64) Tag() string { return "I64" }

// Tag returns "Sg".
func (Float32) Tag() string { return "Sg" }

// Tag returns "Db".
func (Float64) Tag() string { return "Db" }

// Tag returns "D".
func (Decimal) Tag() string { return "D" }

// Tag returns "BA".
func (Bytes) Tag() string { return "BA" }

// Tag returns "G".
func (GUID) Tag() string { return "G" }

// Tag returns "URI".
func (URI) Tag() string { return "URI" }

// Tag returns "Version".
func (Version) Tag() string { return "Version" }

// Tag returns "XD".
func (XMLDocument) Tag() string { return "XD" }

// Tag returns "SBK".
func (ScriptBlock) Tag() string { return "SBK" }

// Tag returns "SS".
func (SecureString) Tag() string { return "SS" }

// Tag returns "PR".
func (ProgressRecord) Tag() string { return "PR" }

// Tag returns "Obj".
func (*Object) Tag() string { return "Obj" }

func (Nil) isValue()            {}
func (String) isValue()         {}
func (Char) isValue()           {}
func (Bool) isValue()           {}
func (DateTime) isValue()       {}
func (Duration) isValue()       {}
func (UInt8) isValue()          {}
func (Int8) isValue()           {}
func (UInt16) isValue()         {}
func (Int16) isValue()          {}
func (UInt32) isValue()         {}
func (Int32) isValue()          {}
func (UInt64) isValue()         {}
func (Int64) isValue()          {}
func (Float32) isValue()        {}
func (Float64) isValue()        {}
func (Decimal) isValue()        {}
func (Bytes) isValue()          {}
func (GUID) isValue()           {}
func (URI) isValue()            {}
func (Version) isValue()        {}
func (XMLDocument) isValue()    {}
func (ScriptBlock) isValue()    {}
func (SecureString) isValue()   {}
func (ProgressRecord) isValue() {}
func (*Object) isValue()        {}

// TypeName returns the most derived type name, or "" when there is none.
func (o *Object) TypeName() string {
	if o == nil || len(o.TypeNames) == 0 {
		return ""
	}
	return o.TypeNames[0]
}

// Property returns the value of the named property, looking first at the
// extended (<MS>) and then at the adapted (<Props>) properties. Names compare
// exactly, as CLIXML writes them.
func (o *Object) Property(name string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	for i := range o.Extended {
		if o.Extended[i].Name == name {
			return o.Extended[i].Value, true
		}
	}
	for i := range o.Adapted {
		if o.Adapted[i].Name == name {
			return o.Adapted[i].Value, true
		}
	}
	return nil, false
}
