// Package clixml reads and writes CLIXML, the XML serialization PowerShell
// uses for objects (MS-PSRP 2.2.5).
//
// Values are represented by the closed set of types implementing Value:
// named Go types for the primitives and *Object for complex objects, with
// their type names, ToString, adapted and extended properties (kept apart and
// in order) and container contents.
package clixml
