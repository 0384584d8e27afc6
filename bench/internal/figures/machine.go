package figures

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine is where figures were taken.
type Machine struct {
	CPUs   int    // usable by this process, as nproc counts them
	Model  string // the CPU's model name
	Memory string // total memory
	Kernel string
	Go     string
	Load   string // load average over 1, 5 and 15 minutes
}

// ReadMachine reads the machine's description from /proc; what it cannot
// read it gives as "?".
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Model: "?", Memory: "?", Kernel: "?", Load: LoadAverage(),
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	m.Model = procField("/proc/cpuinfo", "model name", m.Model)
	if kib, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal", ""), " kB"), 64); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", kib/(1<<20))
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = runtime.GOOS + " " + strings.TrimSpace(string(data))
	}
	return m
}

func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs (nproc), %s, %s memory, %s, %s; load average %s",
		m.CPUs, m.Model, m.Memory, m.Kernel, m.Go, m.Load)
}

// LoadAverage is /proc/loadavg's first three fields, or "?".
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// procField returns the value of the first "key: value" line of a /proc
// file, or def.
func procField(path, key, def string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return def
}
