package hub

import (
	"fmt"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

var benchData = []byte(`{"id":"01m8d0xp0155ty815eswd77wws","type":"comment","title":"New comment","message":"Ann replied to your post","data":{"postId":42},"link":"/posts/42","createdAt":"2026-11-26T22:51:50.145887Z","readAt":null}`)

// BenchmarkDispatchUser measures one user event reaching its user's
// connection among many users: the per-notification cost of fan-out.
func BenchmarkDispatchUser(b *testing.B) {
	for _, users := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			h := New(Options{QueueSize: 4})
			conns := make([]*Conn, users)
			for i := range conns {
				conns[i], _ = h.Register(fmt.Sprint("u", i))
			}
			evs := make([][]notify.Event, users)
			for i := range evs {
				evs[i] = []notify.Event{{UserID: fmt.Sprint("u", i), Seq: 1, Name: "notification", Data: benchData}}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				u := i % users
				h.Dispatch(evs[u])
				<-conns[u].Queue()
			}
		})
	}
}

// BenchmarkDispatchBroadcast measures one broadcast reaching every
// connection: the event is encoded once and the bytes shared.
func BenchmarkDispatchBroadcast(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			h := New(Options{QueueSize: 4})
			conns := make([]*Conn, n)
			for i := range conns {
				conns[i], _ = h.Register(fmt.Sprint("u", i))
			}
			ev := []notify.Event{{UserID: notify.BroadcastStream, Seq: 1, Name: "notification", Data: benchData}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.Dispatch(ev)
				for _, c := range conns {
					<-c.Queue()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/conn")
		})
	}
}
