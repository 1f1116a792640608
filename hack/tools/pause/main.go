// Command pause is the kubelet nodes' pod sandbox image (hack/pause-image), standing in for
// registry.k8s.io/pause, which cannot be pulled here: it sleeps until SIGINT or SIGTERM and exits 0,
// reaping any orphaned children meanwhile, as the real (C) pause does as PID 1.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
