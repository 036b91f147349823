package store

import "fmt"

// Key shapes of a board's partition beside its memberships (see keys.go):
//
//	entry        SK=E#<rankKey>          one per scored team, in rank order
//	count node   SK=N<level>#<rankKey>   the rank tree (ranktree.go)
//	idempotency  SK=IDEM#<hash>[#<n>]    answers of submits made with an Idempotency-Key

func entrySK(rankKey string) string                 { return "E#" + rankKey }
func nodeSKPrefix(level int) string                 { return fmt.Sprintf("N%d#", level) }
func nodeSK(level int, lower string) string         { return nodeSKPrefix(level) + lower }
func idempotencySK(hash string) string              { return "IDEM#" + hash }
func idempotencyMarkerSK(hash string, i int) string { return fmt.Sprintf("IDEM#%s#%03d", hash, i) }

// maxScore bounds every score; see api.MaxScore.
const maxScore = 1<<53 - 1

// rankKey orders a board's entries: the lower the key, the better the rank. It is the
// score (flipped for descending boards) as 14 hex digits, then the millisecond the team
// reached that score (earlier first), then the team id.
func rankKey(sortOrder string, score, reachedAtMs int64, team string) string {
	return scorePrefix(sortOrder, score) + fmt.Sprintf("%012x", reachedAtMs) + team
}

// rankKeyLen is the length of every rank key: 14 + 12 + a 26-character team id.
const rankKeyLen = 14 + 12 + 26

// scoreOf is the score part of a rank key.
func scoreOf(rankKey string) string { return rankKey[:14] }

// scorePrefix is the part of a rank key that the score decides. No rank key equals
// it, and every key of a better score sorts before it.
func scorePrefix(sortOrder string, score int64) string {
	u := maxScore - score
	if sortOrder == "asc" {
		u = score + maxScore
	}
	return fmt.Sprintf("%014x", u)
}
