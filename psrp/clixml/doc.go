// Package clixml reads and writes CLIXML, the XML serialization PowerShell
// uses for objects (MS-PSRP 2.2.5): the data of every PSRP message, and the
// files and streams of Export-Clixml and "#< CLIXML" output.
//
// # Object model
//
// Values are represented by the closed set of types implementing Value:
// named Go types for the primitives (String, Int32, DateTime, …), Nil,
// ProgressRecord and *Object for complex objects, with their type names,
// ToString, inner value (enums, wrapped primitives), container contents
// (Items for <LST>, <IE>, <QUE>, <STK>; Entries for <DCT>) and adapted
// (<Props>) and extended (<MS>) properties, kept apart and in document
// order. Build objects with NewObject, NewList, NewHashtable, NewEnum and
// the Add… methods; read them with Object.Property, the Prop… methods, the
// As… functions, ToGo (plain Go values) or DecodeInto (tagged structs).
// Equal compares values, shared and cyclic objects included. JSON gives a
// stable, order-preserving JSON form for tools.
//
// Values from a peer may share objects through <Ref>: walking them as a
// tree can cost far more than their size. Render them with JSON (linear),
// and convert them with ConvertOptions.ToGo, which refuses a value whose
// tree would exceed a budget; see ToGo and Expansion.
//
// # Decoding
//
// Unmarshal decodes one value, such as a PSRP message body. NewDecoder
// reads values one at a time from a stream, never building a document
// tree: bare values one after another, or CLIXML files (an optional
// "#< CLIXML" line, then <Objs>, whose children it returns with their
// stream attribute). <Ref> elements resolve to the same *Object as the
// <Obj> they name; RefIds are scoped to one top-level value, or to the
// whole <Objs> stream as PowerShell writes them.
//
// Malformed input gives a *SyntaxError with the byte offset; input beyond
// the DecoderOptions limits (depth, bytes per value, text size, objects,
// RefIds) gives a *LimitError, which matches ErrLimit. Decoding never
// panics on any input (see the fuzz targets).
//
// The decoder runs on a tokenizer specialised for the XML subset CLIXML
// uses: UTF-8, ASCII element and attribute names, the five predefined
// entities and character references, CDATA, comments and processing
// instructions (skipped), no DOCTYPE. It is checked against a reference
// tokenizer built on encoding/xml (same values, same error or not).
//
// # Encoding
//
// Marshal and Encoder write the canonical form Windows PowerShell writes:
// RefIds from 0 in document order, <TNRef> for repeated type names, <Ref>
// for an *Object written before (so shared objects stay shared and cycles
// are finite), strings escaped with _xHHHH_ like .NET (EncodeString) and
// XML-escaped, floats in XmlConvert form (INF, -INF, NaN, shortest
// round-trip digits), DateTime from its Raw text when set. Decoding and
// re-encoding a message written by Windows gives the same bytes.
// StreamEncoder writes CLIXML streams (<Objs> with stream attributes).
package clixml
