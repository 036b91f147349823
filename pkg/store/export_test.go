package store

import (
	"context"
	"fmt"
	"strings"
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
		return fmt.Errorf("board %s at version %d (busy %v): %s", boardID, c.Version, c.Busy, strings.Join(c.Problems, "; "))
	}
	return nil
}
