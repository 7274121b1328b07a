package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	cpus     int
	cpuModel string
	memory   string
	goVer    string
	kafka    string // versions from deploy/local/status.sh
	s3       string
}

func describeMachine() (machine, error) {
	m := machine{cpus: runtime.NumCPU(), cpuModel: "unknown CPU", memory: "unknown memory", goVer: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.memory = fmt.Sprintf("%.0f GiB RAM", kb/(1<<20))
			}
		}
	}
	out, err := exec.Command("bash", "deploy/local/status.sh").Output()
	if err != nil {
		return m, fmt.Errorf("deploy/local/status.sh: %w (is the local stack up?)\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		switch f[0] {
		case "kafka":
			m.kafka = f[4]
		case "s3":
			m.s3 = f[4]
		}
	}
	return m, nil
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// clockTick is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTick = 100

// cpuTimes is a snapshot of CPU use: per watched process, and the
// machine's busy time (all CPUs), both in seconds.
type cpuTimes struct {
	at    time.Time
	procs map[string]float64
	busy  float64
	steal float64
}

// procCPU returns a process's user+system CPU seconds (all its threads).
func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTick, true
}

// machineCPU returns, from /proc/stat, the CPU seconds all CPUs spent busy
// (user, nice, system, irq, softirq) and stolen by the hypervisor.
func machineCPU() (busy, steal float64) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0
	}
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is counted in user already.
	fields := strings.Fields(sc.Text())
	for i, v := range fields[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		switch i {
		case 0, 1, 2, 5, 6:
			busy += x
		case 7:
			steal += x
		}
	}
	return busy / clockTick, steal / clockTick
}

func snapshotCPU(pids map[string]int) cpuTimes {
	c := cpuTimes{at: time.Now(), procs: map[string]float64{}}
	c.busy, c.steal = machineCPU()
	for name, pid := range pids {
		if s, ok := procCPU(pid); ok {
			c.procs[name] = s
		}
	}
	return c
}

// fsyncProbe times appending a line to a file in dir and syncing it, as
// ingest's ledger does after each batch, n times.
func fsyncProbe(dir string, n int) (latency, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return latency{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var ds []time.Duration
	line := []byte(strings.Repeat("k", 60) + "\n")
	for i := 0; i < n; i++ {
		start := time.Now()
		if _, err := f.Write(line); err != nil {
			return latency{}, err
		}
		if err := f.Sync(); err != nil {
			return latency{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return percentiles(ds), nil
}
