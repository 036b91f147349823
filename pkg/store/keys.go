package store

import "fmt"

// One function per key shape; no key is formatted anywhere else.
//
// Tenant partition   PK=TENANT#<tenant>           SK=TENANT | TEAM#<team> | LB#<board>
// Board partition    PK=BOARD#<tenant>#<board>    SK=MEMBER#<team>
//                                                 SK=E#<rankKey>         one per scored team, in rank order
//                                                 SK=N<level>#<rankKey>  the rank tree (ranktree.go)
//                                                 SK=IDEM#<hash>[#<n>]   answers of submits with an Idempotency-Key
// Client             PK=CLIENT#<clientId>         SK=CLIENT
// Signing key        PK=SIGNINGKEY                SK=KID#<kid>
// Cursor key         PK=CURSORKEY                 SK=v1

func tenantPK(tenant string) string       { return "TENANT#" + tenant }
func tenantSK() string                    { return "TENANT" }
func teamSK(team string) string           { return "TEAM#" + team }
func leaderboardSK(board string) string   { return "LB#" + board }
func boardPK(tenant, board string) string { return "BOARD#" + tenant + "#" + board }
func memberSK(team string) string         { return "MEMBER#" + team }
func clientPK(clientID string) string     { return "CLIENT#" + clientID }
func clientSK() string                    { return "CLIENT" }
func signingKeyPK() string                { return "SIGNINGKEY" }
func signingKeySK(kid string) string      { return "KID#" + kid }
func cursorKeyPK() string                 { return "CURSORKEY" }
func cursorKeySK() string                 { return "v1" }

// Sort-key prefixes of the tenant partition's lists; teamSK(id) and leaderboardSK(id)
// begin with them.
func teamSKPrefix() string        { return teamSK("") }
func leaderboardSKPrefix() string { return leaderboardSK("") }

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
	if sortOrder == SortAscending {
		u = score + maxScore
	}
	return fmt.Sprintf("%014x", u)
}
