package bench

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

const sampleStatus = `Name:	herolink
Umask:	0022
State:	S (sleeping)
VmPeak:	 1300000 kB
VmSize:	 1290000 kB
VmHWM:	  524288 kB
VmRSS:	  262144 kB
RssAnon:	  250000 kB
Threads:	9
`

func TestParseMemStatusReadsRSSAndPeakInBytes(t *testing.T) {
	m, err := ParseMemStatus(strings.NewReader(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 256<<20 || m.Peak != 512<<20 {
		t.Fatalf("got RSS %d peak %d, want %d and %d", m.RSS, m.Peak, 256<<20, 512<<20)
	}
}

func TestParseMemStatusRejectsStatusWithoutMemoryLines(t *testing.T) {
	// Kernel threads and zombies have no VmRSS line.
	if _, err := ParseMemStatus(strings.NewReader("Name:\tkthreadd\nState:\tS (sleeping)\n")); err == nil {
		t.Fatal("no error for a status without VmRSS")
	}
}

func TestParseMemStatusRejectsSizeInOtherUnits(t *testing.T) {
	if _, err := ParseMemStatus(strings.NewReader("VmHWM:\t12 MB\nVmRSS:\t10 MB\n")); err == nil {
		t.Fatal("no error for a size not in kB")
	}
}

func TestParseCPUTimeAddsUserAndSystemTicksAfterCommandName(t *testing.T) {
	// The command name may hold spaces and parentheses; utime is 250 ticks, stime 50.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 12345 1000000 500\n"
	got, err := ParseCPUTime([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParseCPUTimeRejectsTruncatedStat(t *testing.T) {
	if _, err := ParseCPUTime([]byte("4242 (x) S 1 2 3")); err == nil {
		t.Fatal("no error for a truncated stat line")
	}
}

func TestReadMemStatusAndCPUTimeOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux only")
	}
	m, err := ReadMemStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Fatalf("implausible memory: RSS %d peak %d", m.RSS, m.Peak)
	}
	if _, err := ReadCPUTime(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseMachineBusyLeavesOutIdleAndIOWait(t *testing.T) {
	// user 100, nice 10, system 40, idle 5000, iowait 300, irq 5, softirq 3, steal 2, guest 50.
	stat := "cpu  100 10 40 5000 300 5 3 2 50 0\ncpu0 50 5 20 2500 150 2 1 1 25 0\n"
	got, err := ParseMachineBusy([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 1600 * time.Millisecond; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
