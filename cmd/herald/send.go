package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// defaultURL is where herald send finds the server unless told otherwise.
const defaultURL = "http://127.0.0.1:8080"

// maxResponseBytes bounds what send reads of a response.
const maxResponseBytes = 1 << 20

type sendOptions struct {
	user, users   string
	broadcast     bool
	typ, title    string
	message, data string
	link          string
	idemKey       string
	collapseKey   string
	url           string
}

// publishRequest is the body of POST /api/publish/notifications (SPEC 5),
// with empty fields left out.
type publishRequest struct {
	UserID         string          `json:"userId,omitempty"`
	UserIDs        []string        `json:"userIds,omitempty"`
	Broadcast      bool            `json:"broadcast,omitempty"`
	Type           string          `json:"type"`
	Title          string          `json:"title"`
	Message        string          `json:"message,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	Link           string          `json:"link,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	CollapseKey    string          `json:"collapseKey,omitempty"`
}

// sendFlags defines the flags of `herald send` on fs; --url defaults to
// HERALD_URL from getenv.
func sendFlags(fs *flag.FlagSet, getenv func(string) string) *sendOptions {
	o := &sendOptions{}
	fs.StringVar(&o.user, "user", "", "recipient user id")
	fs.StringVar(&o.users, "users", "", "recipient user ids, comma-separated")
	fs.BoolVar(&o.broadcast, "broadcast", false, "send to every user")
	fs.StringVar(&o.title, "title", "", "title; required")
	fs.StringVar(&o.message, "message", "", "message text")
	fs.StringVar(&o.typ, "type", "message", "notification type, [a-z0-9._-]")
	fs.StringVar(&o.data, "data", "", `JSON object attached to the notification, e.g. '{"postId":42}'`)
	fs.StringVar(&o.link, "link", "", "link the notification opens")
	fs.StringVar(&o.idemKey, "idempotency-key", "", "the same key within 24h is stored once")
	fs.StringVar(&o.collapseKey, "collapse-key", "", "replaces the user's unread notification with the same key")
	fs.StringVar(&o.url, "url", or(getenv("HERALD_URL"), defaultURL), "base URL of the Herald server (env HERALD_URL)")
	return o
}

// request checks o and builds the publish request from it. Only what the
// server could not report helpfully is checked here; the server validates
// the rest and send shows its message.
func (o *sendOptions) request() (*publishRequest, error) {
	req := &publishRequest{
		UserID: o.user, Broadcast: o.broadcast, Type: o.typ, Title: o.title,
		Message: o.message, Link: o.link, IdempotencyKey: o.idemKey, CollapseKey: o.collapseKey,
	}
	for u := range strings.SplitSeq(o.users, ",") {
		if u = strings.TrimSpace(u); u != "" {
			req.UserIDs = append(req.UserIDs, u)
		}
	}
	audiences := 0
	for _, set := range []bool{o.user != "", o.users != "", o.broadcast} {
		if set {
			audiences++
		}
	}
	switch {
	case audiences != 1:
		return nil, usagef("exactly one of --user, --users or --broadcast is required")
	case o.users != "" && len(req.UserIDs) == 0:
		return nil, usagef("--users: no user id in %q", o.users)
	case o.title == "":
		return nil, usagef("--title: required")
	}
	if o.data != "" {
		d := bytes.TrimSpace([]byte(o.data))
		if !json.Valid(d) || d[0] != '{' {
			return nil, usagef("--data: must be a JSON object, such as '{\"postId\":42}'")
		}
		req.Data = d
	}
	return req, nil
}

// endpoint returns the publish URL under base.
func endpoint(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("--url: must be an http(s) URL such as %s, got %q", defaultURL, base)
	}
	return strings.TrimRight(u.String(), "/") + "/api/publish/notifications", nil
}

// cmdSend publishes one notification and prints the server's answer. A
// refusal by the server is an error carrying its message.
func cmdSend(ctx context.Context, e *Env, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	o := sendFlags(fs, e.Getenv)
	cfg, err := e.loadConfig("send", args, fs)
	if err != nil {
		return err
	}
	body, err := o.request()
	if err != nil {
		return err
	}
	target, err := endpoint(o.url)
	if err != nil {
		return err
	}
	if err := cfg.ValidateValues(); err != nil {
		return err
	}
	if err := cfg.Require("HERALD_PUBLISHER_KEY"); err != nil {
		return err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(cfg.PublisherKey))
	ver, _ := buildVersion()
	req.Header.Set("User-Agent", "herald-send/"+ver)

	resp, err := e.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w (is herald serve running at %s?)", err, o.url)
		}
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("server answered %s: %s", resp.Status, serverMessage(answer))
	}
	answer = bytes.TrimRight(answer, "\r\n")
	_, err = fmt.Fprintf(e.Stdout, "%s\n", answer)
	return err
}

// serverMessage extracts the message of an error body
// {"error":{"code":…,"message":…}}, or returns the start of any other body.
func serverMessage(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		if e.Error.Code != "" {
			return fmt.Sprintf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return e.Error.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "no message"
	}
	return fmt.Sprintf("%q", s)
}
