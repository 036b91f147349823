package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: URL-safe, no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// lastID is the newest id this process made, for ids made within one millisecond.
var lastID struct {
	sync.Mutex
	ms   int64
	rand [10]byte
}

// newID returns a ULID: 48 bits of milliseconds then 80 random bits, as 26 characters.
// Ids sort by creation time, so a tenant's teams list in the order they were made. Two
// ids made by one process in the same millisecond are made in the ULID spec's monotonic
// way, the second one's random part the first one's plus one, so that they sort in the
// order they were made too.
func newID(now time.Time) string {
	var b [16]byte
	ms := now.UnixMilli()
	binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
	lastID.Lock()
	if ms == lastID.ms {
		for i := len(lastID.rand) - 1; i >= 0; i-- {
			if lastID.rand[i]++; lastID.rand[i] != 0 {
				break
			}
		}
	} else {
		lastID.ms = ms
		rand.Read(lastID.rand[:])
	}
	copy(b[6:], lastID.rand[:])
	lastID.Unlock()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 26 characters hold 130 bits; the first carries the top 3 bits of 128.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s could be an id this store made. Anything else is answered
// as "not found" without a read, and never becomes part of a key.
func ValidID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}
