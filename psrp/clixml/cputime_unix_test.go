//go:build unix

package clixml

import "syscall"

// processCPUSeconds returns the user+system CPU time of this process. The
// benchmarks report throughput per CPU second too, which stays meaningful
// on a machine shared with other work.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
