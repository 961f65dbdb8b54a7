package sse_test

import (
	"fmt"
	"os"
	"time"

	"github.com/herald-notify/herald/internal/sse"
)

// The server encodes an event body once and gives each connection its own id.
func ExampleAppendID() {
	body := sse.AppendEvent(nil, "notification", []byte(`{"title":"Hi"}`))

	var conn []byte
	conn = sse.AppendRetry(conn, 3*time.Second)
	conn = sse.AppendID(conn, "e1.7.0")
	conn = append(conn, body...)
	conn = sse.AppendComment(conn, "ping")
	fmt.Printf("%s", conn)
	// Output:
	// retry: 3000
	//
	// id: e1.7.0
	// event: notification
	// data: {"title":"Hi"}
	//
	// : ping
	//
}

func ExampleEvent_WriteTo() {
	e := sse.Event{ID: "e1.8.0", Name: "notification", Data: []byte("two\nlines")}
	if _, err := e.WriteTo(os.Stdout); err != nil {
		fmt.Println(err)
	}
	bad := sse.Event{Name: "x\ndata: forged"}
	_, err := bad.WriteTo(os.Stdout)
	fmt.Println(err)
	// Output:
	// id: e1.8.0
	// event: notification
	// data: two
	// data: lines
	//
	// append event: invalid event name: contains a line feed (LF) at byte 1
}
