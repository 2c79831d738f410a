package clixml

import (
	"errors"
	"fmt"
)

// ErrLimit is matched (with errors.Is) by every *LimitError.
var ErrLimit = errors.New("clixml: limit exceeded")

// SyntaxError reports malformed XML or CLIXML: a broken tag, an unknown
// element, a bad primitive value, a Ref to an unknown RefId.
type SyntaxError struct {
	// Offset is the byte offset in the input near which the error was found.
	Offset int64
	// Element is the CLIXML element being decoded ("" when unknown).
	Element string
	// Msg describes the problem.
	Msg string
	// Err is the underlying error, if any (for example from strconv).
	Err error
}

// Error describes the problem and where it is.
func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("clixml: syntax error at offset %d", e.Offset)
	if e.Element != "" {
		s += " in <" + e.Element + ">"
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// LimitError reports that the input exceeded one of the DecoderOptions
// limits, or that the encoder, DecodeInto, JSON or ConvertOptions.ToGo met
// a value beyond theirs. errors.Is(err, ErrLimit) is true.
type LimitError struct {
	// Limit names the limit: "MaxDepth", "MaxInputSize", "MaxStringSize",
	// "MaxObjects" or "MaxStreamRefs" (DecoderOptions, EncoderOptions),
	// "MaxDepth" or "MaxSteps" (DecodeIntoOptions, inside a *DecodeError),
	// "MaxConvertDepth" (JSON) or "MaxExpansion" (ConvertOptions).
	Limit string
	// Max is the configured value of the limit.
	Max int64
	// Offset is the byte offset in the input where the limit was exceeded
	// (-1 when not decoding text: encoding, DecodeInto, JSON).
	Offset int64
}

// Error names the limit and where it was exceeded.
func (e *LimitError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("clixml: %s limit of %d exceeded", e.Limit, e.Max)
	}
	return fmt.Sprintf("clixml: %s limit of %d exceeded at offset %d", e.Limit, e.Max, e.Offset)
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// EncodeError reports a value that cannot be written as CLIXML, such as a
// string that is not valid UTF-8 or an Object whose Inner is an *Object.
type EncodeError struct {
	// Path locates the value, for example "Obj.MS[Exception].Props[Message]".
	Path string
	// Msg describes the problem.
	Msg string
}

// Error names the value and the problem.
func (e *EncodeError) Error() string {
	if e.Path == "" {
		return "clixml: cannot encode: " + e.Msg
	}
	return "clixml: cannot encode " + e.Path + ": " + e.Msg
}
