package dynamofault

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Fault is a kind of behaviour the layer showed a caller.
type Fault string

const (
	Conflict          Fault = "conflict"           // TransactionConflict: cancelled transaction or rejected write
	Throttle          Fault = "throttle"           // a partition key over its budget
	InternalError     Fault = "internal-error"     // a 500 before the call was applied
	LostResponse      Fault = "lost-response"      // the call was applied, its response replaced by an error
	Invisible         Fault = "invisible"          // a read showed an in-flight transaction's item as it was before
	StaleRead         Fault = "stale-read"         // an eventually consistent read showed an item's previous version
	Replay            Fault = "replay"             // a TransactWriteItems answered from its ClientRequestToken, not applied again
	InProgress        Fault = "in-progress"        // TransactionInProgressException: a token repeated while in flight
	ParameterMismatch Fault = "parameter-mismatch" // IdempotentParameterMismatchException
)

// Partition is a partition key value of a table. An index's partitions, metered apart
// from the table's, have Table "table/index".
type Partition struct {
	Table, Key string
}

// Usage is what one partition key consumed, in capacity units as the service counts them.
type Usage struct {
	ReadUnits, WriteUnits         float64 // in total
	PeakReadUnits, PeakWriteUnits float64 // most consumed within one second
	Throttled                     int64   // requests refused for its budget
}

// Stats is what the layer saw and did. The layer's own reads are not in it.
type Stats struct {
	Calls      map[string]int64 // by operation, one per call of the caller
	Attempts   map[string]int64 // by operation, the SDK's retries included
	Faults     map[Fault]int64
	Partitions map[Partition]Usage
}

// Stats returns a snapshot.
func (l *Layer) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{
		Calls:      maps.Clone(l.calls),
		Attempts:   maps.Clone(l.attempts),
		Faults:     maps.Clone(l.faults),
		Partitions: map[Partition]Usage{},
	}
	for k, p := range l.parts {
		if p.usage != (Usage{}) {
			s.Partitions[Partition{Table: k.table, Key: p.display}] = p.usage
		}
	}
	return s
}

// Hottest is the partition with the highest peak of write units, then of read units.
func (s Stats) Hottest() (Partition, Usage, bool) {
	var best Partition
	var u Usage
	found := false
	for p, pu := range s.Partitions {
		if !found || pu.PeakWriteUnits > u.PeakWriteUnits ||
			pu.PeakWriteUnits == u.PeakWriteUnits && pu.PeakReadUnits > u.PeakReadUnits {
			best, u, found = p, pu, true
		}
	}
	return best, u, found
}

// String is one line: calls by operation, faults by kind, the hottest partition key.
func (s Stats) String() string {
	var b strings.Builder
	var calls, attempts int64
	for _, n := range s.Calls {
		calls += n
	}
	for _, n := range s.Attempts {
		attempts += n
	}
	fmt.Fprintf(&b, "dynamofault: %d calls, %d attempts (", calls, attempts)
	ops := slices.Sorted(maps.Keys(s.Calls))
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", op, s.Calls[op])
	}
	b.WriteString("); faults:")
	if len(s.Faults) == 0 {
		b.WriteString(" none")
	}
	for _, f := range slices.Sorted(maps.Keys(s.Faults)) {
		fmt.Fprintf(&b, " %s %d", f, s.Faults[f])
	}
	if p, u, ok := s.Hottest(); ok {
		fmt.Fprintf(&b, "; hottest key %q: peak %.0f WCU/s, %.0f RCU/s, %d throttled",
			p.Key, u.PeakWriteUnits, u.PeakReadUnits, u.Throttled)
	}
	return b.String()
}
