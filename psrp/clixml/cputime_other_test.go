//go:build !unix

package clixml

// processCPUSeconds is not available here; the CPU-time metrics read 0.
func processCPUSeconds() float64 { return 0 }
