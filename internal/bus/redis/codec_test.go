package redis

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// sampleEvents covers what must survive the trip byte-exact: empty and
// unicode user ids, both kinds of stream, data with newlines and
// multi-byte characters, transient events, times at µs and ns and zero.
func sampleEvents() []notify.Event {
	at := time.Date(2025, 3, 9, 14, 7, 5, 123456000, time.UTC)
	return []notify.Event{
		{UserID: "u1", Seq: 1, Name: notify.EventNotification,
			Data: json.RawMessage(`{"id":"01j","title":"line one\nline two\r\nthree","message":"héllo wörld ✓ 🎉"}`), CreatedAt: at,
			Unread: 7, Counted: true},
		{UserID: "ユーザー", Seq: 1<<53 + 7, Name: notify.EventRead, Data: json.RawMessage(`{"all":true}`), CreatedAt: at.Add(time.Microsecond)},
		{UserID: notify.BroadcastStream, Seq: 42, Name: notify.EventNotification, Data: json.RawMessage(`{}`), CreatedAt: at.Add(987 * time.Nanosecond),
			Unread: 1 << 40, Counted: true},
		{UserID: "u4", Seq: 3, Name: notify.EventDeleted, Data: json.RawMessage(`{"ids":["x"]}`), CreatedAt: at, Unread: -2, Counted: true},
		{UserID: "u2", Name: notify.EventUnreadCount, Data: json.RawMessage(`{"count":3}`)},
		{UserID: "u3", Name: "build.finished", Data: json.RawMessage("{\"log\":\"a\\nb\",\"raw\":\"\u2028\"}"), CreatedAt: time.Unix(-1, 5)},
	}
}

// sameEvents fails t unless got and want hold the same events in order.
func sameEvents(t testing.TB, got, want []notify.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.UserID != w.UserID || g.Seq != w.Seq || g.Name != w.Name ||
			!bytes.Equal(g.Data, w.Data) || !g.CreatedAt.Equal(w.CreatedAt) ||
			g.Counted != w.Counted || g.Unread != w.Unread {
			t.Fatalf("event %d:\n got %+v (data %q)\nwant %+v (data %q)", i, g, g.Data, w, w.Data)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	origin := [originLen]byte{1, 2, 3, 4, 5, 6, 7, 8}
	want := sampleEvents()
	msgs := encode(origin, want)
	if len(msgs) != 1 {
		t.Fatalf("%d messages for a small batch, want 1", len(msgs))
	}
	o, got, err := decode(string(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if o != origin {
		t.Fatalf("origin %x, want %x", o, origin)
	}
	sameEvents(t, got, want)
}

func TestEncodeSplitsLargeBatchesInOrder(t *testing.T) {
	t.Parallel()
	data := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
	var evs []notify.Event
	for i := range 200 { // about 3.2 MiB
		evs = append(evs, notify.Event{UserID: fmt.Sprint("u", i), Seq: int64(i + 1), Name: "notification", Data: data})
	}
	msgs := encode([originLen]byte{}, evs)
	if len(msgs) < 4 {
		t.Fatalf("%d messages for 3.2 MiB, want at least 4", len(msgs))
	}
	var got []notify.Event
	for _, m := range msgs {
		if len(m) > maxMessage {
			t.Fatalf("message of %d bytes, limit %d", len(m), maxMessage)
		}
		_, part, err := decode(string(m))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, part...)
	}
	sameEvents(t, got, evs)
}

// Earlier releases send version 1, without counts: their events decode,
// not Counted, so that a rolling upgrade delivers both ways.
func TestDecodesVersion1(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000000, 5).UTC()
	msg := "\x01" + "ORIGIN01" + "\x01" + "\x02u1" + "\x06" + "\x0cnotification" + "\x02{}" +
		string(binaryVarint(at.Unix())) + "\x05"
	_, evs, err := decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, evs, []notify.Event{{UserID: "u1", Seq: 3, Name: "notification", Data: json.RawMessage(`{}`), CreatedAt: at}})
}

func binaryVarint(x int64) []byte {
	return binary.AppendVarint(nil, x)
}

func TestResyncRequestRoundTrips(t *testing.T) {
	t.Parallel()
	origin, evs, err := decode(string(encodeResync([originLen]byte{7})))
	if err != nil || evs != nil || origin != ([originLen]byte{7}) {
		t.Fatalf("decode(resync) = %v, %v, %v", origin, evs, err)
	}
}

func TestDecodeRefusesMalformedMessages(t *testing.T) {
	t.Parallel()
	good := string(encode([originLen]byte{9}, sampleEvents())[0])
	cases := map[string]string{
		"empty":               "",
		"json":                `[{"n":"notification"}]`,
		"version 3":           "\x03" + good[1:],
		"v1 with counts":      "\x01" + good[1:],
		"no events, trailing": "\x02" + good[1:1+originLen] + "\x00x",
		"huge count":          "\x02" + good[1:1+originLen] + "\xff\xff\xff\xff\x0f",
		"trailing byte":       good + "x",
		"bad nanos":           "\x02" + good[1:1+originLen] + "\x01\x01u\x02\x01n\x00\x00\x80\x94\xeb\xdc\x03\x00",
		"bad counts flag":     "\x02" + good[1:1+originLen] + "\x01\x01u\x02\x01n\x00\x00\x00\x02",
		"overlong int":        "\x02" + good[1:1+originLen] + "\x01\x01u\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
	}
	for i := 1; i < len(good); i += 7 {
		cases[fmt.Sprint("truncated at ", i)] = good[:i]
	}
	for name, msg := range cases {
		if _, evs, err := decode(msg); err == nil {
			t.Errorf("%s: decoded %d events, want an error", name, len(evs))
		}
	}
}

// Whatever arrives on the channel, decode never panics and never returns
// events together with an error; what it accepts re-encodes to the same
// events.
func FuzzDecode(f *testing.F) {
	f.Add(string(encode([originLen]byte{}, sampleEvents())[0]))
	f.Add("\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00")
	f.Fuzz(func(t *testing.T, msg string) {
		origin, evs, err := decode(msg)
		if err != nil {
			if evs != nil {
				t.Fatal("events returned with an error")
			}
			return
		}
		_, again, err := decode(string(encode(origin, evs)[0]))
		if err != nil {
			t.Fatalf("re-encoded message refused: %v", err)
		}
		sameEvents(t, again, evs)
	})
}

// BenchmarkCodec compares this encoding with JSON of []notify.Event, both
// ways, for a typical notification and one with 16 KiB of data.
func BenchmarkCodec(b *testing.B) {
	for _, size := range []int{200, 16 << 10} {
		n, _ := json.Marshal(map[string]any{"id": "01jabcdefghjkmnpqrstvwxyz0", "type": "comment",
			"title": "New comment", "message": strings.Repeat("é", size/2), "createdAt": time.Now()})
		evs := []notify.Event{{UserID: "user-123456", Seq: 12345, Name: "notification", Data: n, CreatedAt: time.Now()}}
		b.Run(fmt.Sprintf("binary/%dB", len(n)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := encode([originLen]byte{}, evs)[0]
				if _, _, err := decode(string(m)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(encode([originLen]byte{}, evs)[0])), "msgbytes")
		})
		b.Run(fmt.Sprintf("json/%dB", len(n)), func(b *testing.B) {
			b.ReportAllocs()
			var m []byte
			for b.Loop() {
				m, _ = json.Marshal(evs)
				var out []notify.Event
				if err := json.Unmarshal(m, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(m)), "msgbytes")
		})
	}
}
