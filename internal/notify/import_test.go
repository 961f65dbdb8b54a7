package notify

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLineReader(t *testing.T) {
	t.Parallel()
	in := "a\r\n\nbb\n" + strings.Repeat("x", 10) + "\ncc" // no final newline
	lr := NewLineReader(strings.NewReader(in), 5)
	type got struct {
		n    int
		line string
		err  error
	}
	var all []got
	for {
		n, line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		all = append(all, got{n, string(line), err})
	}
	want := []got{{1, "a", nil}, {2, "", nil}, {3, "bb", nil}, {4, "", ErrLineTooLong}, {5, "cc", nil}}
	if len(all) != len(want) {
		t.Fatalf("lines %+v, want %+v", all, want)
	}
	for i := range want {
		if all[i].n != want[i].n || all[i].line != want[i].line || !errors.Is(all[i].err, want[i].err) {
			t.Errorf("line %d: %+v, want %+v", i, all[i], want[i])
		}
	}
	if lr.Records() != 4 || lr.Bytes() != int64(len(in)) {
		t.Errorf("records %d, bytes %d", lr.Records(), lr.Bytes())
	}
}

func TestParseImportLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ok := `{"userId":"u1","type":"comment","title":"Hi","message":"m","data":{"a": 1},"link":"/x","collapseKey":"k",` +
		`"importId":"row-1","createdAt":"2026-05-01T10:00:00.123456789+02:00","readAt":"2026-05-02T00:00:00Z"}`
	n, err := ParseImportLine([]byte(ok), now, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n.UserID != "u1" || n.ImportID != "row-1" || n.CollapseKey != "k" || string(n.Data) != `{"a":1}` ||
		!n.CreatedAt.Equal(time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.UTC)) || n.CreatedAt.Location() != time.UTC ||
		n.ReadAt == nil || !n.ReadAt.Equal(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parsed %+v", n)
	}
	for _, tc := range []struct{ name, line, want string }{
		{"not an object", `[1]`, "line: must be a JSON object"},
		{"trailing", `{"userId":"u1"} {}`, "line: unexpected data"},
		{"malformed", `{"userId":`, "line: "},
		{"unknown field", `{"userId":"u1","colour":1}`, "colour: unknown field"},
		{"wrong type", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":5}`, "createdAt: wrong type"},
		{"no user", `{"type":"c","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z"}`, "userId: required"},
		{"many users", `{"userIds":["a"],"type":"c","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z"}`, "userId: an import line is for exactly one"},
		{"broadcast", `{"broadcast":true,"type":"c","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z"}`, "userId: an import line"},
		{"bad type", `{"userId":"u1","type":"A B","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z"}`, "type: "},
		{"idempotency key", `{"userId":"u1","type":"c","title":"t","idempotencyKey":"k","importId":"i","createdAt":"2026-05-01T00:00:00Z"}`, "idempotencyKey: not used by import"},
		{"no import id", `{"userId":"u1","type":"c","title":"t","createdAt":"2026-05-01T00:00:00Z"}`, "importId: required"},
		{"control in import id", `{"userId":"u1","type":"c","title":"t","importId":"a\u0001","createdAt":"2026-05-01T00:00:00Z"}`, "importId: must be"},
		{"no createdAt", `{"userId":"u1","type":"c","title":"t","importId":"i"}`, "createdAt: required"},
		{"bad createdAt", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"1 May 2026"}`, "createdAt: must be an RFC 3339 time"},
		{"future", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"2026-06-01T12:10:00Z"}`, "createdAt: in the future"},
		{"too old", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"2026-01-01T00:00:00Z"}`, "createdAt: older than the retention (HERALD_RETENTION, 90d)"},
		{"read before created", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z","readAt":"2026-04-01T00:00:00Z"}`, "readAt: before createdAt"},
		{"bad readAt", `{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"2026-05-01T00:00:00Z","readAt":""}`, "readAt: required"},
	} {
		_, err := ParseImportLine([]byte(tc.line), now, 90*24*time.Hour)
		if ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A null readAt is unread; without a retention any past time is taken.
	n, err = ParseImportLine([]byte(`{"userId":"u1","type":"c","title":"t","importId":"i","createdAt":"2001-01-01T00:00:00Z","readAt":null}`), now, 0)
	if err != nil || n.ReadAt != nil {
		t.Errorf("null readAt, no retention: %+v, %v", n, err)
	}
}

func TestIDAtSortsByTime(t *testing.T) {
	t.Parallel()
	var g IDGen
	now := time.Now()
	old, older := IDAt(now.Add(-time.Hour)), IDAt(now.Add(-2*time.Hour))
	fresh := g.New(now)
	same1, same2 := IDAt(now), IDAt(now)
	if !(older < old && old < fresh) || len(old) != 26 || same1 == same2 {
		t.Errorf("ids %s %s %s", older, old, fresh)
	}
}
