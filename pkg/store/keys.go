package store

// One function per key shape; no key is formatted anywhere else.
//
// Tenant partition   PK=TENANT#<tenant>           SK=TENANT | TEAM#<team> | LB#<board>
// Board partition    PK=BOARD#<tenant>#<board>    SK=MEMBER#<team>
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
