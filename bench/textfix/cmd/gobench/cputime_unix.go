//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, in user and system
// mode, its garbage collector included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "gobench: reading CPU time:", err)
		os.Exit(1)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
