package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// MemStatus is a process's memory as /proc/PID/status reports it.
type MemStatus struct {
	RSS  int64 // VmRSS: resident set size now, bytes
	Peak int64 // VmHWM: the highest resident set size so far, bytes
}

// ReadMemStatus reads /proc/PID/status. It works only on Linux.
func ReadMemStatus(pid int) (MemStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return MemStatus{}, err
	}
	defer f.Close()
	return ParseMemStatus(f)
}

// ParseMemStatus reads VmRSS and VmHWM from the text of /proc/PID/status ("VmRSS:\t  1234 kB").
func ParseMemStatus(r io.Reader) (MemStatus, error) {
	var m MemStatus
	var haveRSS, havePeak bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, found := strings.Cut(sc.Text(), ":")
		if !found || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		n, err := parseKB(rest)
		if err != nil {
			return MemStatus{}, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmRSS" {
			m.RSS, haveRSS = n, true
		} else {
			m.Peak, havePeak = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return MemStatus{}, err
	}
	if !haveRSS || !havePeak {
		return MemStatus{}, fmt.Errorf("process status has no VmRSS or VmHWM line (a kernel thread or a zombie?)")
	}
	return m, nil
}

func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("%q is not a size in kB", strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size in kB", strings.TrimSpace(s))
	}
	return n * 1024, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times. It is 100 on every Linux that Go
// supports; reading sysconf(_SC_CLK_TCK) would need cgo.
const clockTicks = 100

// ReadCPUTime reads the user plus system CPU time a process has used, from /proc/PID/stat.
func ReadCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseCPUTime(data)
}

// ParseCPUTime reads utime and stime (fields 14 and 15) from the text of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
func ParseCPUTime(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("process stat has no command name")
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3 (state), so utime (field 14) is f[11] and stime (field 15) is f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("process stat has %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("process stat time %q is not a tick count", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// ReadMachineBusy reads the CPU time all processors of the machine have spent on anything but
// idle and I/O wait since boot, from the first line of /proc/stat.
func ReadMachineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return ParseMachineBusy(data)
}

// ParseMachineBusy adds user, nice, system, irq, softirq and steal of the "cpu" line of
// /proc/stat. Guest time is already inside user and nice, so it is not added again.
func ParseMachineBusy(stat []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat does not start with an aggregate cpu line")
	}
	var ticks int64
	for i, s := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("/proc/stat time %q is not a tick count", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
