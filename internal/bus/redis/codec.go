package redis

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// The wire format of one bus message (version 2):
//
//	version  byte (2)
//	origin   8 bytes: the publishing Bus's random id
//	count    uvarint
//	count × event:
//	  user   uvarint length, bytes
//	  seq    varint
//	  name   uvarint length, bytes
//	  data   uvarint length, bytes
//	  secs   varint   CreatedAt, Unix seconds
//	  nanos  uvarint  CreatedAt, nanoseconds within the second
//	  counts byte     1 when the event carries its stream's unread share, else 0
//	  share  varint   the share (only when counts is 1)
//
// Version 1, which earlier releases send, is the same without counts and
// share; it is still decoded (its events are not Counted).
// A binary format rather than JSON: encoding/json validates and compacts
// every json.RawMessage on the way out and scans it again on the way in,
// which for a 16 KiB payload costs more than the rest of the path (see
// BenchmarkCodec). A receiver drops a message of a version it does not know;
// the streams repair the loss from the store when the next event arrives.
const (
	wireVersion   = 2
	wireVersionV1 = 1
)

// originLen is the length of a Bus's id in each message.
const originLen = 8

// minEventLen is the smallest encoding of one event (five one-byte fields
// and a one-byte length), used to bound the count before allocating.
const minEventLen = 6

var errMalformed = errors.New("malformed message")

// appendHeader starts a message of n events from origin.
func appendHeader(dst []byte, origin [originLen]byte, n int) []byte {
	dst = append(dst, wireVersion)
	dst = append(dst, origin[:]...)
	return binary.AppendUvarint(dst, uint64(n))
}

// appendEvent appends the encoding of e.
func appendEvent(dst []byte, e *notify.Event) []byte {
	dst = appendString(dst, e.UserID)
	dst = binary.AppendVarint(dst, e.Seq)
	dst = appendString(dst, e.Name)
	dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
	dst = append(dst, e.Data...)
	dst = binary.AppendVarint(dst, e.CreatedAt.Unix())
	dst = binary.AppendUvarint(dst, uint64(e.CreatedAt.Nanosecond()))
	if !e.Counted {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return binary.AppendVarint(dst, e.Unread)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// eventLen returns an upper bound of the encoded length of e.
func eventLen(e *notify.Event) int {
	return len(e.UserID) + len(e.Name) + len(e.Data) + 6*binary.MaxVarintLen64 + 1
}

// decode parses a message. User ids and names share the memory of msg;
// Data is copied, so the caller may keep the events. CreatedAt comes back
// in UTC (the same instant). Any malformed input is an error, never a
// partial or invented event.
func decode(msg string) (origin [originLen]byte, evs []notify.Event, err error) {
	r := reader{s: msg}
	version := r.byte()
	if version != wireVersion && version != wireVersionV1 {
		return origin, nil, errors.New("unknown message version")
	}
	copy(origin[:], r.take(originLen))
	n := r.uvarint()
	if !r.bad && n == 0 && r.i == len(r.s) {
		return origin, nil, nil // a resync request (encodeResync)
	}
	if r.bad || n == 0 || n > uint64(len(r.s)-r.i)/minEventLen {
		return origin, nil, errMalformed
	}
	evs = make([]notify.Event, n)
	for i := range evs {
		e := &evs[i]
		e.UserID = r.string()
		e.Seq = r.varint()
		e.Name = r.string()
		if d := r.string(); d != "" {
			e.Data = []byte(d)
		}
		secs, nanos := r.varint(), r.uvarint()
		if nanos >= uint64(time.Second) {
			r.bad = true
		}
		if version >= 2 {
			switch r.byte() {
			case 0:
			case 1:
				e.Unread, e.Counted = r.varint(), true
			default:
				r.bad = true
			}
		}
		if r.bad {
			return origin, nil, errMalformed
		}
		e.CreatedAt = time.Unix(secs, int64(nanos)).UTC()
	}
	if r.i != len(r.s) {
		return origin, nil, errMalformed
	}
	return origin, evs, nil
}

// reader reads the fields of a message; after the first error every read
// returns zero values and bad stays set.
type reader struct {
	s   string
	i   int
	bad bool
}

func (r *reader) byte() byte {
	if r.bad || r.i >= len(r.s) {
		r.bad = true
		return 0
	}
	r.i++
	return r.s[r.i-1]
}

func (r *reader) take(n uint64) string {
	if r.bad || n > uint64(len(r.s)-r.i) {
		r.bad = true
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *reader) string() string { return r.take(r.uvarint()) }

// uvarint reads an unsigned LEB128 number of at most 10 bytes.
func (r *reader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 70; shift += 7 {
		b := r.byte()
		if r.bad {
			return 0
		}
		if shift == 63 && b > 1 {
			break // overflows 64 bits
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x
		}
	}
	r.bad = true
	return 0
}

// varint reads a zig-zag signed number.
func (r *reader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// maxMessage bounds the size of one PUBLISH: a larger batch is split, in
// order, over several messages. Redis disconnects a subscriber whose output
// buffer passes client-output-buffer-limit pubsub (32 MiB hard, 8 MiB for
// 60 s by default), and one message to 1,000 recipients with 16 KiB of data
// each would come close.
const maxMessage = 1 << 20

// encode splits evs into messages of at most about maxMessage bytes (one
// event larger than that travels alone) and returns their encodings.
// encodeResync returns a message of no events: a request that every other
// instance catch up from the store.
func encodeResync(origin [originLen]byte) []byte {
	return appendHeader(nil, origin, 0)
}

func encode(origin [originLen]byte, evs []notify.Event) [][]byte {
	var msgs [][]byte
	for start := 0; start < len(evs); {
		end, size := start, 0
		for end < len(evs) && (end == start || size+eventLen(&evs[end]) <= maxMessage) {
			size += eventLen(&evs[end])
			end++
		}
		buf := make([]byte, 0, size+1+originLen+binary.MaxVarintLen64)
		buf = appendHeader(buf, origin, end-start)
		for i := start; i < end; i++ {
			buf = appendEvent(buf, &evs[i])
		}
		msgs = append(msgs, buf)
		start = end
	}
	return msgs
}
