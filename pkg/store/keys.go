package store

// One function per key shape; no key is formatted anywhere else.
//
// Tenant partition   PK=TENANT#<tenant>           SK=TENANT | TEAM#<team> | LB#<board>
// Board partition    PK=BOARD#<tenant>#<board>    SK=MEMBER#<team>
// Client             PK=CLIENT#<clientId>         SK=CLIENT
// Signing key        PK=SIGNINGKEY                SK=KID#<kid>

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
