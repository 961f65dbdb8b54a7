package bench

import (
	"strings"
	"testing"
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
