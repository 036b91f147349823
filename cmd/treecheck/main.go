// Command treecheck verifies leaderboards: that each board's rank tree keeps its
// invariants (every count, bound and stamp) and that the tree, the members and the
// ranking entries name the same teams at the same scores. With -repair it rebuilds the
// tree of each board that is not sound, online: submits wait for it and lose nothing.
//
//	go run ./cmd/treecheck -tenant <tenantId> [-board <leaderboardId>] [-repair]
//
// Without -board it checks every board of the tenant. By default it targets the table
// of a running `make local`; with -endpoint "" and -table/-region, a table in AWS. It
// exits 1 if a board is still not sound.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func main() {
	endpoint := flag.String("endpoint", localenv.LocalEndpoint(), `DynamoDB endpoint; "" for AWS`)
	table := flag.String("table", localenv.TableName, "table name")
	region := flag.String("region", "", "AWS region (with -endpoint \"\"); default from the AWS config")
	tenant := flag.String("tenant", "", "the tenant whose boards to check (required)")
	board := flag.String("board", "", "check only this board")
	repair := flag.Bool("repair", false, "rebuild the rank tree of every board that is not sound")
	flag.Parse()
	if *tenant == "" {
		fmt.Fprintln(os.Stderr, "treecheck: -tenant is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	db, err := localenv.Client(ctx, *endpoint, *region)
	if err != nil {
		fmt.Fprintln(os.Stderr, "treecheck:", err)
		os.Exit(1)
	}
	unsound, err := Run(ctx, store.New(db, *table, time.Now), os.Stdout, *tenant, *board, *repair)
	if err != nil {
		fmt.Fprintln(os.Stderr, "treecheck:", err)
		os.Exit(1)
	}
	if unsound > 0 {
		os.Exit(1)
	}
}

// Run checks (and with repair, repairs) one board or all of a tenant's, writing one line
// per board to out. It returns how many boards are not sound at the end.
func Run(ctx context.Context, s *store.Store, out io.Writer, tenant, board string, repair bool) (int, error) {
	boards := []string{board}
	if board == "" {
		var err error
		if boards, err = allBoards(ctx, s, tenant); err != nil {
			return 0, err
		}
	}
	unsound := 0
	for _, b := range boards {
		check, err := s.CheckBoard(ctx, tenant, b)
		if err != nil {
			return unsound, fmt.Errorf("board %s: %w", b, err)
		}
		if !check.Sound() && repair {
			fmt.Fprintf(out, "board %s: %s; repairing\n", b, describe(check))
			if check, err = s.RepairBoard(ctx, tenant, b); err != nil {
				return unsound, fmt.Errorf("repair board %s: %w", b, err)
			}
		}
		if !check.Sound() {
			unsound++
		}
		fmt.Fprintf(out, "board %s: %s\n", b, describe(check))
	}
	return unsound, nil
}

func describe(c store.BoardCheck) string {
	if c.Sound() {
		return fmt.Sprintf("sound (version %d, %d ranked)", c.Version, c.Entries)
	}
	return fmt.Sprintf("NOT sound (version %d, %d ranked): %s", c.Version, c.Entries, strings.Join(c.Problems, "; "))
}

func allBoards(ctx context.Context, s *store.Store, tenant string) ([]string, error) {
	var ids []string
	for after := ""; ; {
		page, next, err := s.ListLeaderboards(ctx, tenant, 100, after)
		if err != nil {
			return nil, err
		}
		for _, b := range page {
			ids = append(ids, b.ID)
		}
		if next == "" {
			return ids, nil
		}
		after = next
	}
}
