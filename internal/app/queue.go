package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/herald-notify/herald/internal/httpapi"
	"github.com/herald-notify/herald/internal/metrics"
	"github.com/herald-notify/herald/internal/queue/sqs"
)

// queueOpenTimeout bounds reading the queue's attributes at start.
const queueOpenTimeout = 15 * time.Second

// openQueue builds the SQS consumer when HERALD_QUEUE is set; a.queue stays
// nil otherwise. The consumer feeds a.Service, so a.Service must be built.
func (a *App) openQueue(ctx context.Context, m *metrics.Metrics) error {
	if a.cfg.Queue == "" {
		return nil
	}
	client, err := sqs.NewClient(ctx, sqs.ClientConfig{
		Region: a.cfg.SQSRegion, Endpoint: a.cfg.SQSEndpoint, QueueURL: a.cfg.Queue, Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("HERALD_QUEUE (--queue): %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, queueOpenTimeout)
	defer cancel()
	c, err := sqs.New(ctx, sqs.Options{
		QueueURL:   a.cfg.Queue,
		DLQURL:     a.cfg.SQSDLQ,
		Pollers:    a.cfg.SQSPollers,
		Processors: a.cfg.SQSProcessors,
		Client:     client,
		Publisher:  a.Service,
		Metrics:    m,
		Logger:     a.log,
	})
	switch {
	case errors.Is(err, sqs.ErrNoDeadLetter):
		return fmt.Errorf("HERALD_SQS_DLQ (--sqs-dlq): required: %w", err)
	case err != nil:
		return fmt.Errorf("HERALD_QUEUE (--queue): %w", err)
	}
	a.queue = c
	return nil
}

// queueChecks returns the "queue" readiness check, none without a queue.
func (a *App) queueChecks() []httpapi.Check {
	if a.queue == nil {
		return nil
	}
	return []httpapi.Check{{Name: "queue", Ping: a.queue.Ping}}
}

// startQueue runs the consumer, if any, until ctx ends; the returned stop
// ends it early and waits until it has finished its in-flight messages.
func (a *App) startQueue(ctx context.Context) (stop func()) {
	if a.queue == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.queue.Run(ctx); err != nil {
			a.log.Error("queue consumer", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// WorkerOnly turns a into a queue worker (herald worker): Run then consumes
// the queue and serves only GET /healthz, /readyz and /metrics. It fails
// when no queue is configured. Call it before Run.
func (a *App) WorkerOnly() error {
	if a.queue == nil {
		return errors.New("HERALD_QUEUE (--queue): required by herald worker")
	}
	api := a.handler
	mux := http.NewServeMux()
	for _, p := range []string{"GET /healthz", "GET /readyz", "GET /metrics"} {
		mux.Handle(p, api)
	}
	a.handler = mux
	return nil
}
