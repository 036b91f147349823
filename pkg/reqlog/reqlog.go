// Package reqlog owns the one structured log line written per request: the fields that
// different layers learn while serving it (the tenant from the token, the DynamoDB
// capacity from the store) are collected here and written once at the end.
package reqlog

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Entry gathers what one request did. The zero value is ready to use.
type Entry struct {
	mu         sync.Mutex
	tenant     string
	cause      string
	readUnits  float64
	writeUnits float64
}

type ctxKey struct{}

// Start returns a context that carries a fresh Entry.
func Start(ctx context.Context) (context.Context, *Entry) {
	e := &Entry{}
	return context.WithValue(ctx, ctxKey{}, e), e
}

func from(ctx context.Context) *Entry {
	e, _ := ctx.Value(ctxKey{}).(*Entry)
	return e
}

// SetTenant records the tenant the request acts for. Without an Entry it does nothing.
func SetTenant(ctx context.Context, tenant string) {
	if e := from(ctx); e != nil {
		e.mu.Lock()
		e.tenant = tenant
		e.mu.Unlock()
	}
}

// SetCause records the error behind an answer that is not a 500 but still worth
// knowing about (a 503 or 429): the log has it, the client gets a message of its own.
func SetCause(ctx context.Context, err error) {
	if e := from(ctx); e != nil {
		e.mu.Lock()
		e.cause = err.Error()
		e.mu.Unlock()
	}
}

// Cause is what SetCause recorded, or "".
func (e *Entry) Cause() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cause
}

// AddRead and AddWrite add what DynamoDB reported for one call made with
// ReturnConsumedCapacity TOTAL. A transaction or batch may report one entry per table.
func AddRead(ctx context.Context, used ...types.ConsumedCapacity) { add(ctx, used, false) }

// AddWrite: see AddRead.
func AddWrite(ctx context.Context, used ...types.ConsumedCapacity) { add(ctx, used, true) }

func add(ctx context.Context, used []types.ConsumedCapacity, write bool) {
	e := from(ctx)
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range used {
		if c.CapacityUnits == nil {
			continue
		}
		if write {
			e.writeUnits += *c.CapacityUnits
		} else {
			e.readUnits += *c.CapacityUnits
		}
	}
}

// Tenant is the tenant recorded so far, or "".
func (e *Entry) Tenant() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenant
}

// Capacity is the read and write units consumed so far.
func (e *Entry) Capacity() (read, write float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.readUnits, e.writeUnits
}
