package sqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/herald-notify/herald/internal/notify"
)

// MaxBatchElements bounds the publications of one message in the array form.
const MaxBatchElements = 100

// idempotencyPrefix starts the idempotency keys derived from message ids.
const idempotencyPrefix = "sqs:"

// decodeBody parses a message body: one publication (the JSON object of
// POST /api/publish/notifications) or a JSON array of 1 to MaxBatchElements
// of them. Decoding is as strict as the HTTP API's: no unknown field,
// nothing after the value. Every publication is validated; a publication
// without an idempotencyKey gets key, derived from the message's id by
// decodeMessage ("sqs:ID"), in the object form, and key+":INDEX" as an
// element of the array form, so that a redelivered message is stored once.
// An error is a *notify.Error of code notify.CodeInvalid naming what is
// wrong.
func decodeBody(body, key string) ([]*notify.Publication, error) {
	trimmed := bytes.TrimLeft([]byte(body), " \t\r\n")
	if len(trimmed) == 0 {
		return nil, notify.Errorf(notify.CodeInvalid, "body: must be a JSON object or array")
	}
	var pubs []*notify.Publication
	switch trimmed[0] {
	case '{':
		var p notify.Publication
		if err := decodeStrict(trimmed, &p); err != nil {
			return nil, err
		}
		pubs = []*notify.Publication{&p}
	case '[':
		if err := decodeStrict(trimmed, &pubs); err != nil {
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

// decodeStrict decodes one JSON value into dst, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return notify.Errorf(notify.CodeInvalid, "%s: wrong type", typeErr.Field)
		}
		return notify.Errorf(notify.CodeInvalid, "body: %s", jsonReason(err))
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return notify.Errorf(notify.CodeInvalid, "body: unexpected data after the JSON value")
	}
	return nil
}

// jsonReason shortens a decoding error to a message safe to log and to put
// on a dead-lettered message.
func jsonReason(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("invalid JSON at offset %d", syntax.Offset)
	}
	const max = 200
	s := err.Error()
	if len(s) > max {
		s = s[:max]
	}
	return s
}
