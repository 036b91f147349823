package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// One function per key shape; no key is formatted anywhere else.
//
// Tenant partition   PK=TENANT#<tenant>           SK=TENANT | TEAM#<team> | LB#<board>
// Board partition    PK=BOARD#<tenant>#<board>    SK=HEAD                the board's version and rank tree root (board.go)
//                                                 SK=LOG                 the rest of a batch applied in several commits
//                                                 SK=LEASE               which submit combines the inbox (combine.go)
// Board members      PK=MEMBERS#<tenant>#<board>#<0-15>   SK=MEMBER#<team>
// Board rank tree    PK=TREE#<tenant>#<board>#<0-15>      SK=T#<nodeId>   (package ranktree)
// Idempotency        PK=IDEM#<tenant>#<board>#<hash>      SK=IDEM   answers of submits with an Idempotency-Key
// Board inbox        PK=INBOX#<tenant>#<board>#<shard>  SK=<id>   a queued submit (combine.go)
// Check sample       PK=CHECK#<hour>              SK=<tenant>#<board>  boards written that hour (check.go)
// Client             PK=CLIENT#<clientId>         SK=CLIENT
// Client listing     PK=TENANT#<tenant>           SK=CLIENT#<clientId>   the dashboard's view of a client (accounts.go)
// Account            PK=ACCOUNT#<email digest>    SK=ACCOUNT
// Session            PK=SESSION#<id digest>       SK=SESSION
// Sign-in throttle   PK=SIGNIN#<subject>          SK=SIGNIN   failed sign-ins of an account or an address
// Quota bucket       PK=QUOTA#<tenant>            SK=<class>  a tenant's token bucket (package quota)
// Signing key        PK=SIGNINGKEY                SK=KID#<kid>
// Signing key head   PK=SIGNINGKEY                SK=CURRENT  which key is current (signingkeys.go)
// Cursor key         PK=CURSORKEY                 SK=v1

func tenantPK(tenant string) string         { return "TENANT#" + tenant }
func tenantSK() string                      { return "TENANT" }
func teamSK(team string) string             { return "TEAM#" + team }
func leaderboardSK(board string) string     { return "LB#" + board }
func boardPK(tenant, board string) string   { return "BOARD#" + tenant + "#" + board }
func memberSK(team string) string           { return "MEMBER#" + team }
func clientPK(clientID string) string       { return "CLIENT#" + clientID }
func clientSK() string                      { return "CLIENT" }
func tenantClientSK(clientID string) string { return "CLIENT#" + clientID }
func accountPK(digest string) string        { return "ACCOUNT#" + digest }
func accountSK() string                     { return "ACCOUNT" }
func sessionPK(digest string) string        { return "SESSION#" + digest }
func sessionSK() string                     { return "SESSION" }
func throttlePK(subject string) string      { return "SIGNIN#" + subject }
func throttleSK() string                    { return "SIGNIN" }
func quotaPK(tenant string) string          { return "QUOTA#" + tenant }
func quotaSK(class string) string           { return class }
func signingKeyPK() string                  { return "SIGNINGKEY" }
func signingKeySK(kid string) string        { return "KID#" + kid }
func cursorKeyPK() string                   { return "CURSORKEY" }
func cursorKeySK() string                   { return "v1" }

// Sort-key prefixes of the tenant partition's lists; teamSK(id) and leaderboardSK(id)
// begin with them.
func teamSKPrefix() string        { return teamSK("") }
func leaderboardSKPrefix() string { return leaderboardSK("") }

func headSK() string        { return "HEAD" }
func batchLogSK() string    { return "LOG" }
func leaseSK() string       { return "LEASE" }
func idempotencySK() string { return "IDEM" }

// A busy board's writes go to several partition keys, so that none of them nears one
// key's budget (1,000 write units a second): its members to memberShards keys by team,
// its tree nodes to treeShards keys by node id, each idempotency record to a key of its
// own, its queued submits to inboxShards keys. Only HEAD, LEASE and LOG stay in the
// board's own partition.
const (
	memberShards = 16
	treeShards   = 16
)

// boardSuffix is what every partition key of a board ends with: "#<tenant>#<board>".
func boardSuffix(boardPK string) string { return strings.TrimPrefix(boardPK, "BOARD") }

// memberPK is the partition of a team's member item on a board.
func memberPK(boardPK, team string) string {
	return "MEMBERS" + boardSuffix(boardPK) + "#" + strconv.Itoa(shardOf(team, memberShards))
}

// memberShardPK is one of a board's member partitions.
func memberShardPK(boardPK string, shard int) string {
	return "MEMBERS" + boardSuffix(boardPK) + "#" + strconv.Itoa(shard)
}

// nodePK and nodeSK are a rank tree node's key.
func nodePK(boardPK string, id uint64) string {
	return treeShardPK(boardPK, int(id%treeShards))
}
func treeShardPK(boardPK string, shard int) string {
	return "TREE" + boardSuffix(boardPK) + "#" + strconv.Itoa(shard)
}
func nodeSK(id uint64) string { return fmt.Sprintf("T#%d", id) }

// idempotencyPK is the partition of one Idempotency-Key's record on a board.
func idempotencyPK(boardPK, hash string) string { return "IDEM" + boardSuffix(boardPK) + "#" + hash }

func shardOf(s string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32() % uint32(n))
}

// checkPK is the partition of the boards sampled for checking in one UTC hour.
func checkPK(hour time.Time) string       { return "CHECK#" + hour.UTC().Format("2006-01-02T15") }
func checkSK(tenant, board string) string { return tenant + "#" + board }

// inboxPK is one of the partitions that hold a board's queued requests (combine.go).
func inboxPK(boardPK string, shard int) string {
	return "INBOX" + boardSuffix(boardPK) + "#" + strconv.Itoa(shard)
}

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

// scorePrefix is the part of a rank key that the score decides. No rank key equals
// it, and every key of a better score sorts before it.
func scorePrefix(sortOrder string, score int64) string {
	u := maxScore - score
	if sortOrder == SortAscending {
		u = score + maxScore
	}
	return fmt.Sprintf("%014x", u)
}

// treeKey packs a rank key into the 29 bytes the rank tree stores: the 26 hex digits of
// score and time as 13 bytes, the team id's 26 base32 characters as 16. Both parts have
// a fixed width and keep their order, so packed keys sort as rank keys do, and a full
// leaf of 64 stays near 2 KB.
func treeKey(rankKey string) string {
	b := make([]byte, 0, 29)
	for i := 0; i < 26; i += 2 {
		b = append(b, unhex(rankKey[i])<<4|unhex(rankKey[i+1]))
	}
	var hi, lo uint64
	for i := 26; i < len(rankKey); i++ {
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(strings.IndexByte(crockford, rankKey[i]))
	}
	b = binary.BigEndian.AppendUint64(b, hi)
	b = binary.BigEndian.AppendUint64(b, lo)
	return string(b)
}

// treeProbe packs a score prefix (see scorePrefix) for counting the keys before it.
func treeProbe(prefix string) string {
	b := make([]byte, 0, 7)
	for i := 0; i < 14; i += 2 {
		b = append(b, unhex(prefix[i])<<4|unhex(prefix[i+1]))
	}
	return string(b)
}

// rankKeyOf unpacks a tree key.
func rankKeyOf(treeKey string) string {
	hi := binary.BigEndian.Uint64([]byte(treeKey[13:21]))
	lo := binary.BigEndian.Uint64([]byte(treeKey[21:29]))
	var id [26]byte
	for i := 25; i >= 0; i-- {
		id[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return hex.EncodeToString([]byte(treeKey[:13])) + string(id[:])
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// Parts of a rank key.
func rankKeyTeam(rankKey string) string { return rankKey[26:] }
func rankKeyAt(rankKey string) int64 {
	n, _ := strconv.ParseInt(rankKey[14:26], 16, 64)
	return n
}
func rankKeyScore(sortOrder, rankKey string) int64 {
	u, _ := strconv.ParseInt(rankKey[:14], 16, 64)
	if sortOrder == SortAscending {
		return u - maxScore
	}
	return maxScore - u
}
