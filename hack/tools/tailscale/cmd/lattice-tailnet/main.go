// lattice-tailnet puts one pod's exposed ports on its consumer's tailnet. The agent starts one per
// pod (agent/src/tailnet) and reads its first stdout line: the node's tailnet addresses, as JSON.
//
// Why tsnet and not tailscaled + `tailscale serve`: tailscaled in userspace-networking mode
// (the only mode without root or a TUN device) forwards every inbound connection to a port it
// does not serve to the host's 127.0.0.1, so every peer of the consumer's tailnet, whose ACLs the
// consumer controls, would reach the provider's loopback services (the agent's admin API among
// them). A tsnet node answers only the ports it listens on and refuses the rest.
//
// Usage: TS_AUTHKEY=... lattice-tailnet -dir DIR -hostname NAME -control-url URL -forward 6379=172.18.0.3:6379 ... [-exit-with-stdin]
// The auth key comes from the environment, never the command line (which any local user can read).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"tailscale.com/logtail"
	"tailscale.com/tsnet"
)

type forwards map[string]string

func (f forwards) String() string { return fmt.Sprint(map[string]string(f)) }

func (f forwards) Set(v string) error {
	port, target, ok := strings.Cut(v, "=")
	if !ok || port == "" || target == "" {
		return fmt.Errorf("want PORT=HOST:PORT, got %q", v)
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	f[port] = target
	return nil
}

// ready is the one line written to stdout once the node is up.
type ready struct {
	IPs     []string `json:"ips"`
	DNSName string   `json:"dnsName"`
}

func main() {
	dir := flag.String("dir", "", "state directory (node key, kept across restarts)")
	hostname := flag.String("hostname", "", "the node's name on the tailnet")
	controlURL := flag.String("control-url", "", "the coordination server (login server) URL")
	fwd := forwards{}
	flag.Var(fwd, "forward", "PORT=HOST:PORT: tailnet port to the address it is relayed to (repeatable)")
	exitWithStdin := flag.Bool("exit-with-stdin", false, "leave the tailnet when stdin closes (the agent that started it is gone, even killed)")
	flag.Parse()
	if *dir == "" || *hostname == "" || *controlURL == "" || len(fwd) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if os.Getenv("TS_AUTHKEY") == "" {
		log.Fatal("TS_AUTHKEY is not set")
	}
	// A provider's node sends no logs to Tailscale's log service.
	logtail.Disable()

	srv := &tsnet.Server{
		Dir:        *dir,
		Hostname:   *hostname,
		ControlURL: *controlURL,
		Logf:       func(string, ...any) {},
		UserLogf:   log.Printf,
	}
	defer srv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *exitWithStdin {
		go func() { io.Copy(io.Discard, os.Stdin); stop() }()
	}
	upCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	status, err := srv.Up(upCtx)
	cancel()
	if err != nil {
		log.Fatalf("joining the tailnet at %s: %v", *controlURL, err)
	}

	var wg sync.WaitGroup
	for port, target := range fwd {
		ln, err := srv.Listen("tcp", ":"+port)
		if err != nil {
			log.Fatalf("listening on tailnet port %s: %v", port, err)
		}
		go func() { <-ctx.Done(); ln.Close() }()
		wg.Add(1)
		go func() { defer wg.Done(); serve(ln, target) }()
	}

	out := ready{DNSName: strings.TrimSuffix(status.Self.DNSName, ".")}
	for _, ip := range status.TailscaleIPs {
		out.IPs = append(out.IPs, ip.String())
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatal(err)
	}
	wg.Wait()
}

func serve(ln net.Listener, target string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				log.Printf("accept: %v", err)
			}
			return
		}
		go relay(conn, target)
	}
}

func relay(conn net.Conn, target string) {
	defer conn.Close()
	upstream, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		log.Printf("connecting to %s: %v", target, err)
		return
	}
	defer upstream.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Half-close, so a request-then-read-to-end protocol sees the end of the request.
		if tcp, ok := dst.(interface{ CloseWrite() error }); ok {
			tcp.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(upstream, conn)
	go pipe(conn, upstream)
	<-done
	<-done
}
