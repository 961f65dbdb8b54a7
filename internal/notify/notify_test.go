package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCursorRoundTripsAndRejectsGarbage(t *testing.T) {
	t.Parallel()
	c := Cursor{Epoch: "ab12cd34", Position: Position{User: 123456789, Broadcast: 42}}
	got, err := ParseCursor(c.String())
	if err != nil || got != c {
		t.Fatalf("ParseCursor(%q) = %+v, %v", c.String(), got, err)
	}
	for _, bad := range []string{"", "x", "a.1", "a.1.2.3", "A.1.1", "a.-1.0", "a.1.-1", "a.zz_.0",
		".1.1", "a..1", "a.1.", strings.Repeat("a", 65), "a.1.0\n", "a.99999999999999999999.0",
		// not the form Cursor.String writes: sign, leading zero, upper case
		"a.+1.0", "a.01.0", "a.0.00", "a.Z.0", " a.1.0", "a.1.0 "} {
		if _, err := ParseCursor(bad); ErrorCode(err) != CodeInvalid {
			t.Errorf("ParseCursor(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestPositionOrdersEachStreamSeparately(t *testing.T) {
	t.Parallel()
	p := Position{User: 5, Broadcast: 2}
	user6 := Event{UserID: "u", Seq: 6}
	bc2 := Event{UserID: BroadcastStream, Seq: 2}
	if !p.After(user6) || p.After(bc2) {
		t.Fatal("After compares the wrong stream")
	}
	if q := p.Advance(user6).Advance(Event{Seq: 3}); q != (Position{User: 6, Broadcast: 3}) {
		t.Fatalf("Advance = %+v", q)
	}
}

func TestIDGenIsStrictlyIncreasingAndSortable(t *testing.T) {
	t.Parallel()
	var g IDGen
	now := time.Unix(1700000000, 0)
	prev := g.New(now)
	for i := 0; i < 10000; i++ {
		// The clock may stand still or step back: ids still increase.
		ts := now.Add(time.Duration(i%3-1) * time.Millisecond)
		id := g.New(ts)
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		prev = id
	}
	later := g.New(now.Add(time.Hour))
	if later <= prev {
		t.Fatalf("later id %q sorts before %q", later, prev)
	}
}

func TestPublicationValidateNamesTheField(t *testing.T) {
	t.Parallel()
	ok := func() Publication { return Publication{UserID: "u1", Type: "comment", Title: "hi"} }
	cases := []struct {
		field string
		mod   func(p *Publication)
	}{
		{"userId", func(p *Publication) { p.UserID = "" }},
		{"userId", func(p *Publication) { p.Broadcast = true }},
		{"userId", func(p *Publication) { p.UserID = "a\nb" }},
		{"userIds", func(p *Publication) { p.UserID = ""; p.UserIDs = []string{} }},
		{"userIds[1]", func(p *Publication) { p.UserID = ""; p.UserIDs = []string{"a", ""} }},
		{"type", func(p *Publication) { p.Type = "" }},
		{"type", func(p *Publication) { p.Type = "Comment" }},
		{"type", func(p *Publication) { p.Type = strings.Repeat("a", 65) }},
		{"title", func(p *Publication) { p.Title = "" }},
		{"title", func(p *Publication) { p.Title = strings.Repeat("é", 257) }},
		{"message", func(p *Publication) { p.Message = strings.Repeat("m", 4097) }},
		{"title", func(p *Publication) { p.Title = "a\x00b" }},
		{"message", func(p *Publication) { p.Message = "a\x00b" }},
		{"data", func(p *Publication) { p.Data = json.RawMessage(`[1]`) }},
		{"data", func(p *Publication) { p.Data = json.RawMessage(`"s"`) }},
		{"data", func(p *Publication) { p.Data = json.RawMessage(`{"a":"` + strings.Repeat("x", 16<<10) + `"}`) }},
		{"link", func(p *Publication) { p.Link = "/a\r\nb" }},
		{"link", func(p *Publication) { p.Link = "/a\u0085b" }},
		{"data", func(p *Publication) { p.Data = json.RawMessage("{\"a\":\"\xff\"}") }},
		{"data", func(p *Publication) { p.Data = json.RawMessage("{\"\xc3\":1}") }},
		{"userIds[0]", func(p *Publication) { p.UserID = ""; p.UserIDs = []string{"a\u202eb"} }},
		{"idempotencyKey", func(p *Publication) { p.IdempotencyKey = strings.Repeat("k", 257) }},
		{"collapseKey", func(p *Publication) { p.UserID = ""; p.Broadcast = true; p.CollapseKey = "c" }},
	}
	for _, tc := range cases {
		p := ok()
		tc.mod(&p)
		err := p.Validate()
		if ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), tc.field+":") {
			t.Errorf("%s: Validate() = %v, want an invalid error naming %s", tc.field, err, tc.field)
		}
	}
	p := ok()
	p.Title = "multi\nline"
	p.Data = json.RawMessage(" { \"a\" : 1 } ")
	if err := p.Validate(); err != nil {
		t.Fatalf("valid publication refused: %v", err)
	}
	if string(p.Data) != `{"a":1}` {
		t.Fatalf("data not compacted: %s", p.Data)
	}
	p = Publication{UserIDs: []string{"a", "b", "a"}, Type: "t", Title: "x"}
	if err := p.Validate(); err != nil || len(p.Recipients()) != 2 {
		t.Fatalf("recipients %v, %v", p.Recipients(), err)
	}
}

func TestMergeStreamsInterleavesByTimeKeepingEachOrder(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	user := []Event{{UserID: "u", Seq: 1, CreatedAt: at(1)}, {UserID: "u", Seq: 2, CreatedAt: at(3)}}
	bc := []Event{{Seq: 1, CreatedAt: at(1)}, {Seq: 2, CreatedAt: at(2)}, {Seq: 3, CreatedAt: at(4)}}
	got := MergeStreams(user, bc, 10)
	want := []string{"u1", "b1", "b2", "u2", "b3"} // the user's event first on equal times
	if len(got) != len(want) {
		t.Fatalf("merged %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		name := "b"
		if !e.Broadcast() {
			name = "u"
		}
		if name+string(rune('0'+e.Seq)) != want[i] {
			t.Fatalf("event %d is %s%d, want %s", i, name, e.Seq, want[i])
		}
	}
	if got := MergeStreams(user, bc, 2); len(got) != 2 {
		t.Fatalf("limit 2 gave %d events", len(got))
	}
}

func TestEventPageLeavesOutInvalidEventsButCountsThem(t *testing.T) {
	t.Parallel()
	user := []Event{
		{UserID: "u", Seq: 4, Name: EventNotification},
		{UserID: "u", Seq: 5, Name: "error"},
		{UserID: "u", Seq: 6, Name: "deploy"},
	}
	bc := []Event{{Seq: 8, Name: "live"}, {Seq: 9, Name: EventNotification}}
	pos := Position{User: 3, Broadcast: 7}

	p := NewEventPage(pos, user, bc, 4)
	if len(p.Events) != 2 || p.Events[0].Seq != 4 || p.Events[1].Seq != 6 {
		t.Fatalf("events %+v, want user 4 and 6", p.Events)
	}
	if p.Skipped != 2 || !p.More || p.Next != (Position{User: 6, Broadcast: 8}) {
		t.Fatalf("page %+v, want 2 skipped, More, Next {6 8}", p)
	}
	p = NewEventPage(p.Next, nil, bc[1:], 4)
	if len(p.Events) != 1 || p.More || p.Next != (Position{User: 6, Broadcast: 9}) {
		t.Fatalf("last page %+v", p)
	}
	if p := NewEventPage(pos, user, bc, 0); len(p.Events) != 0 || p.More || p.Next != pos {
		t.Fatalf("limit 0: %+v", p)
	}
}
