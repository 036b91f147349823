package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CheckTreeForTest recounts a board's rank tree from its entries and reports the first
// way in which the stored counts, children or boundaries disagree.
func (s *Store) CheckTreeForTest(ctx context.Context, tenant, boardID string) error {
	pk := boardPK(tenant, boardID)
	var keys []string
	err := s.queryRange(ctx, pk, entrySK(""), entrySK("~"), true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			keys = append(keys, strings.TrimPrefix(it["SK"].(*types.AttributeValueMemberS).Value, entrySK("")))
		}
		return nil
	})
	if err != nil {
		return err
	}
	var below []string // lower bounds one level down
	for level := 1; level <= levels; level++ {
		nodes, err := s.queryNodes(ctx, pk, level, "", "~")
		if err != nil {
			return err
		}
		if len(keys) > 0 && (len(nodes) == 0 || nodes[0].lower(level) != "") {
			return fmt.Errorf("level %d has no root", level)
		}
		var lowers []string
		for i, n := range nodes {
			lo, hi := n.lower(level), "~"
			if i+1 < len(nodes) {
				hi = nodes[i+1].lower(level)
			}
			lowers = append(lowers, lo)
			var count int64
			for _, k := range keys {
				if k >= lo && k < hi {
					count++
				}
			}
			if n.Count != count {
				return fmt.Errorf("level %d node %q counts %d, holds %d", level, lo, n.Count, count)
			}
			if level > 1 {
				var children int64
				for _, b := range below {
					if b >= lo && b < hi {
						children++
					}
				}
				if n.Children != children {
					return fmt.Errorf("level %d node %q has %d children, records %d", level, lo, children, n.Children)
				}
				if !contains(below, lo) {
					return fmt.Errorf("level %d bound %q is not a level %d bound", level, lo, level-1)
				}
			}
		}
		below = lowers
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
