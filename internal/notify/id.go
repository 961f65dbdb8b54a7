package notify

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet, lower case: ids sort as strings
// in the order of their numeric value.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// IDGen makes notification ids: 26 characters encoding a 48-bit millisecond
// timestamp and 80 random bits (the ULID layout). Ids from one IDGen are
// strictly increasing, so "newest first" is "greatest id first"; ids from
// different instances sort by time to within clock skew. Safe for concurrent use.
type IDGen struct {
	mu     sync.Mutex
	lastMs uint64
	hi     uint16 // top 16 random bits
	lo     uint64 // low 64 random bits
}

// New returns the next id for time now.
func (g *IDGen) New(now time.Time) string {
	ms := uint64(now.UnixMilli())
	g.mu.Lock()
	if ms > g.lastMs {
		var b [10]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		g.lastMs, g.hi, g.lo = ms, binary.BigEndian.Uint16(b[:2]), binary.BigEndian.Uint64(b[2:])
	} else {
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	}
	ms, hi, lo := g.lastMs, g.hi, g.lo
	g.mu.Unlock()
	return encodeID(ms, hi, lo)
}

// IDAt returns an id for a notification created at t, which may lie in the
// past (an import): its time part is t's, so that it sorts among ids made
// at that time, and its 80 random bits make a collision as unlikely as
// between any two ids. Unlike IDGen.New, successive calls are not ordered.
func IDAt(t time.Time) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return encodeID(uint64(max(t.UnixMilli(), 0)), binary.BigEndian.Uint16(b[:2]), binary.BigEndian.Uint64(b[2:]))
}

// encodeID writes 128 bits, ms(48) hi(16) lo(64), as 26 base32 digits
// (130 bits, the top two always zero).
func encodeID(ms uint64, hi uint16, lo uint64) string {
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | uint64(hi)<<59
		hi = uint16(uint64(hi)>>5 | (ms&31)<<11)
		ms >>= 5
	}
	return string(out[:])
}
