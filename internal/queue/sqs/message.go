package sqs

import (
	"bytes"
	"strconv"

	"github.com/herald-notify/herald/internal/notify"
)

// MaxBatchElements bounds the publications of one message in the array form.
const MaxBatchElements = 100

// idempotencyPrefix starts the idempotency keys derived from message ids.
const idempotencyPrefix = "sqs:"

// decodeBody parses a message body: one publication (the JSON object of
// POST /api/publish/notifications) or a JSON array of 1 to MaxBatchElements
// of them, decoded by notify.DecodeJSON as strictly as by the HTTP API.
// Every publication is validated; a publication without an idempotencyKey
// gets key, derived from the message's id by decodeMessage ("sqs:ID"), in
// the object form, and key+":INDEX" as an element of the array form, so
// that a redelivered message is stored once. An error is a *notify.Error
// of code notify.CodeInvalid naming what is wrong.
func decodeBody(body, key string) ([]*notify.Publication, error) {
	trimmed := bytes.TrimLeft([]byte(body), " \t\r\n")
	if len(trimmed) == 0 {
		return nil, notify.Errorf(notify.CodeInvalid, "body: must be a JSON object or array")
	}
	var pubs []*notify.Publication
	switch trimmed[0] {
	case '{':
		var p notify.Publication
		if err := notify.DecodeJSON(trimmed, &p); err != nil {
			return nil, err
		}
		pubs = []*notify.Publication{&p}
	case '[':
		if err := notify.DecodeJSON(trimmed, &pubs); err != nil {
			return nil, err
		}
		if len(pubs) == 0 || len(pubs) > MaxBatchElements {
			return nil, notify.Errorf(notify.CodeInvalid, "body: an array must hold 1 to %d publications", MaxBatchElements)
		}
	default:
		return nil, notify.Errorf(notify.CodeInvalid, "body: must be a JSON object or array")
	}
	for i, p := range pubs {
		if p == nil {
			return nil, notify.Errorf(notify.CodeInvalid, "body[%d]: must be a JSON object", i)
		}
		if p.IdempotencyKey == "" {
			p.IdempotencyKey = key
			if trimmed[0] == '[' {
				p.IdempotencyKey += ":" + strconv.Itoa(i)
			}
		}
		if err := p.Validate(); err != nil {
			if trimmed[0] == '[' {
				return nil, notify.Errorf(notify.CodeInvalid, "body[%d]: %s", i, notify.ErrorMessage(err))
			}
			return nil, err
		}
	}
	return pubs, nil
}
