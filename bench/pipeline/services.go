package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// topics names one run's topics, consumer groups and archive prefix, all
// fresh, so that a run never reads what another left.
type topics struct {
	raw, records, dlq         string
	normalizeGroup, sinkGroup string
	prefix                    string
}

func newTopics(run string) topics {
	base := "bench.pipeline." + run
	return topics{
		raw:            base + ".raw",
		records:        base + ".records",
		dlq:            base + ".dlq",
		normalizeGroup: base + ".normalize",
		sinkGroup:      base + ".sink",
		prefix:         "bench/pipeline/" + run + "/articles/v1",
	}
}

// service is a running service process.
type service struct {
	name string
	cmd  *exec.Cmd
	addr string
	log  string
	done chan error
}

// startService runs a built service binary with the flags of the
// end-to-end tests (e2e/e2e_test.go), and waits until /readyz answers 200.
func startService(ctx context.Context, binDir, logDir, name string, args ...string) (*service, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args = append([]string{"--http.addr", addr, "--log.level", "info"}, args...)
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &service{name: name, cmd: cmd, addr: addr, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("%s exited before ready: %v\n%s", name, err, tail(logPath))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("%s not ready after 60s\n%s", name, tail(logPath))
}

// exited reports whether the service has stopped, and its exit error.
func (s *service) exited() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 60 s); it
// returns an error unless the service exited 0.
func (s *service) stop() error {
	if ok, err := s.exited(); ok {
		return fmt.Errorf("%s had exited: %v", s.name, err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			return fmt.Errorf("%s: exit after SIGTERM: %w\n%s", s.name, err, tail(s.log))
		}
		return nil
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 60s of SIGTERM", s.name)
	}
}

// metrics returns the service's /metrics text.
func (s *service) metrics() (string, error) {
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
