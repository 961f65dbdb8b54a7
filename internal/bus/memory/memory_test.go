package memory

import (
	"context"
	"errors"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

func TestPublishDeliversInOrderAndStopsAfterClose(t *testing.T) {
	t.Parallel()
	b := New()
	var got []int64
	if err := b.Subscribe(func(evs []notify.Event) {
		for _, e := range evs {
			got = append(got, e.Seq)
		}
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := int64(1); i <= 3; i++ {
		if err := b.Publish(ctx, []notify.Event{{UserID: "u", Seq: i}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("delivered %v, want [1 2 3]", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, []notify.Event{{UserID: "u", Seq: 4}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := b.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
	if len(got) != 3 {
		t.Fatalf("event delivered after Close: %v", got)
	}
}
