package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// NewIDForTest exposes newID to the external tests.
var NewIDForTest = newID

// CheckTreeForTest runs CheckBoard and reports any problem it finds as an error.
func (s *Store) CheckTreeForTest(ctx context.Context, tenant, boardID string) error {
	c, err := s.CheckBoard(ctx, tenant, boardID)
	if err != nil {
		return err
	}
	if !c.Sound() {
		return fmt.Errorf("board %s at version %d: %s", boardID, c.Version, strings.Join(c.Problems, "; "))
	}
	return nil
}

// OnceAfterHead runs f the first time a view or commit of the board has read its HEAD.
func (s *Store) OnceAfterHead(f func()) { s.hooks.afterHead = once(f) }

// OnceBeforeCommit runs f the first time a board commit is built and not yet sent.
func (s *Store) OnceBeforeCommit(f func()) { s.hooks.beforeCommit = once(f) }

func once(f func()) func(context.Context, string) {
	var o sync.Once
	return func(context.Context, string) { o.Do(f) }
}
