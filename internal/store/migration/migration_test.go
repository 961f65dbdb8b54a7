package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoadOrdersAndRefusesBadNames(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
	}
	ms, err := Load(fsys, "m")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].SQL != "B" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, bad := range map[string]fstest.MapFS{
		"no number": {"m/x_a.sql": {}},
		"zero":      {"m/0000_a.sql": {}},
		"not sql":   {"m/0001_a.txt": {}},
		"twice":     {"m/0001_a.sql": {}, "m/01_b.sql": {}},
		"no dir":    {},
	} {
		if _, err := Load(bad, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNewEpochIsACursorEpoch(t *testing.T) {
	t.Parallel()
	a, err := NewEpoch()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewEpoch()
	if len(a) != 8 || a == b {
		t.Fatalf("epochs %q, %q", a, b)
	}
	for _, c := range a {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			t.Fatalf("epoch %q has %q", a, c)
		}
	}
}
