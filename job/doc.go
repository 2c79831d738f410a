// Package job will hold job handles for commands started as jobs (state,
// HasMoreData, Receive with Keep, Wait, Stop), with Receive-Job semantics.
//
// Not built yet: this package is a placeholder for the next milestone (see the
// README's roadmap). It exports nothing.
package job
