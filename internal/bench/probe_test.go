package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	t.Parallel()
	status := "Name:\therald\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 12345*1024 {
		t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, 12345*1024)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tx kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) accepted", bad)
		}
	}
}

func TestParseGauges(t *testing.T) {
	t.Parallel()
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 20015
go_goroutines_extra 1
go_memstats_heap_inuse_bytes 4.2991616e+08
herald_connections{instance="a"} 3
`
	g, err := parseGauges(strings.NewReader(text), []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if g["go_goroutines"] != 20015 || g["go_memstats_heap_inuse_bytes"] != 429916160 {
		t.Fatalf("gauges %v", g)
	}
	if _, ok := g["absent"]; ok {
		t.Fatal("an absent series was reported")
	}
	if _, err := parseGauges(strings.NewReader("go_goroutines x\n"), []string{"go_goroutines"}); err == nil {
		t.Fatal("a bad value was accepted")
	}
}

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the command name holds ") (" on purpose.
	line := "4242 (her) (ald) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 123456 789 18446744073709551615\n"
	got, err := parseStatCPU([]byte(line))
	if err != nil || got != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (herald S 1")); err == nil {
		t.Fatal("malformed line parsed")
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	d, err := CPUTime(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if d < 0 {
		t.Fatalf("CPUTime = %v", d)
	}
}
