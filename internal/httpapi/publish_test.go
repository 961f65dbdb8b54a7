package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

func TestPublishReceipts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name, body string
		want       []notify.Receipt
	}{
		{"one user", `{"userId":"u1","type":"comment","title":"Hi"}`, []notify.Receipt{{UserID: "u1"}}},
		{"several users, de-duplicated", `{"userIds":["u1","u2","u1"],"type":"a.b_c-1","title":"Hi\nthere","message":"m","data":{"postId":42},"link":"/p/42"}`,
			[]notify.Receipt{{UserID: "u1"}, {UserID: "u2"}}},
		{"broadcast", `{"broadcast":true,"type":"news","title":"Hello all"}`, []notify.Receipt{{Broadcast: true}}},
	}
	for _, c := range cases {
		rec := h.do("POST", "/api/publish/notifications", c.body, append(auth(pubKey), "Content-Type", "application/json; charset=utf-8")...)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
		var resp publishResponse
		decode(t, rec, &resp)
		if len(resp.Notifications) != len(c.want) {
			t.Fatalf("%s: receipts %+v", c.name, resp.Notifications)
		}
		for i, r := range resp.Notifications {
			if r.ID == "" || r.UserID != c.want[i].UserID || r.Broadcast != c.want[i].Broadcast {
				t.Errorf("%s: receipt %d = %+v, want %+v", c.name, i, r, c.want[i])
			}
		}
	}
	if got := len(h.bus.names()); got != 4 {
		t.Errorf("bus got %d events, want 4", got)
	}
}

func TestPublishIdempotencyAnswersOriginalBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"userId":"u1","type":"comment","title":"Hi","idempotencyKey":"evt-1"}`
	first := h.do("POST", "/api/publish/notifications", body, auth(pubKey)...)
	second := h.do("POST", "/api/publish/notifications", body, auth(pubKey)...)
	if first.Code != http.StatusAccepted || second.Code != http.StatusAccepted || first.Body.String() != second.Body.String() {
		t.Fatalf("first %d %s, second %d %s", first.Code, first.Body, second.Code, second.Body)
	}
	if got := len(h.bus.names()); got != 1 {
		t.Errorf("bus got %d events, want 1", got)
	}
}

func TestPublishBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name, body string
		field      string
	}{
		{"missing type", `{"userId":"u1","title":"t"}`, "type:"},
		{"missing title", `{"userId":"u1","type":"c"}`, "title:"},
		{"bad type chars", `{"userId":"u1","type":"Bad Type","title":"t"}`, "type:"},
		{"type newline", `{"userId":"u1","type":"a\nb","title":"t"}`, "type:"},
		{"type too long", `{"userId":"u1","type":"` + long(65) + `","title":"t"}`, "type:"},
		{"title too long", `{"userId":"u1","type":"c","title":"` + long(257) + `"}`, "title:"},
		{"message too long", `{"userId":"u1","type":"c","title":"t","message":"` + long(4<<10+1) + `"}`, "message:"},
		{"data too large", `{"userId":"u1","type":"c","title":"t","data":{"k":"` + long(16<<10) + `"}}`, "data:"},
		{"data array", `{"userId":"u1","type":"c","title":"t","data":[1]}`, "data:"},
		{"data string", `{"userId":"u1","type":"c","title":"t","data":"x"}`, "data:"},
		{"userId and userIds", `{"userId":"u1","userIds":["u2"],"type":"c","title":"t"}`, "userId:"},
		{"userId and broadcast", `{"userId":"u1","broadcast":true,"type":"c","title":"t"}`, "userId:"},
		{"no recipient", `{"type":"c","title":"t"}`, "userId:"},
		{"empty userIds", `{"userIds":[],"type":"c","title":"t"}`, "userIds:"},
		{"bad user in userIds", `{"userIds":["ok","a\u0000b"],"type":"c","title":"t"}`, "userIds[1]:"},
		{"title not a string", `{"userId":"u1","type":"c","title":5}`, "title:"},
		{"userIds not an array", `{"userIds":"u1","type":"c","title":"t"}`, "userIds:"},
		{"unknown field", `{"userId":"u1","type":"c","title":"t","colour":"red"}`, "colour:"},
		{"trailing garbage", `{"userId":"u1","type":"c","title":"t"} x`, "body:"},
		{"two objects", `{"userId":"u1","type":"c","title":"t"}{}`, "body:"},
		{"array body", `[{"userId":"u1","type":"c","title":"t"}]`, "body:"},
		{"null body", `null`, "body:"},
		{"empty body", ``, "body:"},
		{"malformed", `{"userId":"u1",`, "body:"},
		{"syntax error", `{"userId" "u1"}`, "body:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := h.do("POST", "/api/publish/notifications", c.body, auth(pubKey)...)
			wantError(t, rec, http.StatusBadRequest, notify.CodeInvalid, c.field)
		})
	}
	if n := len(h.bus.names()); n != 0 {
		t.Errorf("bad input published %d events", n)
	}
}

func TestPublishBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A valid publication padded with whitespace to exactly the limit passes;
	// one byte more is refused.
	base := `{"userId":"u1","type":"c","title":"t"}`
	atLimit := base + strings.Repeat(" ", maxBodyBytes-len(base))
	if rec := h.do("POST", "/api/publish/notifications", atLimit, auth(pubKey)...); rec.Code != http.StatusAccepted {
		t.Fatalf("64 KiB body: %d %s", rec.Code, rec.Body)
	}
	rec := h.do("POST", "/api/publish/notifications", atLimit+" ", auth(pubKey)...)
	wantError(t, rec, http.StatusRequestEntityTooLarge, notify.CodeTooLarge, "body:")
}

func TestPublishContentType(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"userId":"u1","type":"c","title":"t"}`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "garbage;;"} {
		rec := h.do("POST", "/api/publish/notifications", body, append(auth(pubKey), "Content-Type", ct)...)
		wantError(t, rec, http.StatusUnsupportedMediaType, codeMediaType, "content-type:")
		rec = h.do("POST", "/api/publish/events", `{"userId":"u1","event":"x"}`, append(auth(pubKey), "Content-Type", ct)...)
		wantError(t, rec, http.StatusUnsupportedMediaType, codeMediaType, "content-type:")
	}
}

func TestPublishEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("POST", "/api/publish/events", `{"userIds":["u1","u2"],"event":"Deploy.done_1","data":{"v":1}}`, auth(pubKey)...)
	if rec.Code != http.StatusAccepted || strings.TrimSpace(rec.Body.String()) != "{}" {
		t.Fatalf("event: %d %s", rec.Code, rec.Body)
	}
	rec = h.do("POST", "/api/publish/events", `{"broadcast":true,"event":"maintenance","durable":true}`, auth(pubKey)...)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("durable broadcast: %d %s", rec.Code, rec.Body)
	}
	if got, want := h.bus.names(), []string{"Deploy.done_1", "Deploy.done_1", "maintenance"}; !reflect.DeepEqual(got, want) {
		t.Errorf("bus events %v, want %v", got, want)
	}
}

func TestPublishEventBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct{ name, body, field string }{
		{"reserved connected", `{"userId":"u1","event":"connected"}`, "event:"},
		{"reserved notification", `{"userId":"u1","event":"notification"}`, "event:"},
		{"reserved notification.read", `{"userId":"u1","event":"notification.read"}`, "event:"},
		{"reserved notification.*", `{"userId":"u1","event":"notification.anything"}`, "event:"},
		{"reserved unread-count", `{"userId":"u1","event":"unread-count"}`, "event:"},
		{"reserved reset", `{"userId":"u1","event":"reset"}`, "event:"},
		{"missing name", `{"userId":"u1"}`, "event:"},
		{"space in name", `{"userId":"u1","event":"bad name"}`, "event:"},
		{"newline in name", `{"userId":"u1","event":"a\nb"}`, "event:"},
		{"colon in name", `{"userId":"u1","event":"a:b"}`, "event:"},
		{"name too long", `{"userId":"u1","event":"` + strings.Repeat("e", 65) + `"}`, "event:"},
		{"data not object", `{"userId":"u1","event":"x","data":[1]}`, "data:"},
		{"no recipient", `{"event":"x"}`, "userId:"},
		{"unknown field", `{"userId":"u1","event":"x","id":"1"}`, "id:"},
		{"trailing garbage", `{"userId":"u1","event":"x"}]`, "body:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := h.do("POST", "/api/publish/events", c.body, auth(pubKey)...)
			wantError(t, rec, http.StatusBadRequest, notify.CodeInvalid, c.field)
		})
	}
	rec := h.do("POST", "/api/publish/events", `{"userId":"u1","event":"x","data":{"k":"`+strings.Repeat("x", maxBodyBytes)+`"}}`, auth(pubKey)...)
	wantError(t, rec, http.StatusRequestEntityTooLarge, notify.CodeTooLarge, "body:")
	if n := len(h.bus.names()); n != 0 {
		t.Errorf("bad input published %d events", n)
	}
}
