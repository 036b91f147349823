package api

import (
	"encoding/json"
	"math/big"
	"net/http"
	"strings"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// MaxScore bounds every score: 2^53-1 is the largest integer every JSON client
// (JavaScript's Number above all) holds exactly.
const MaxScore = 1<<53 - 1

// parseScore reads a JSON number that must be an integer within +/-MaxScore: 1e3 is
// accepted as 1000; 1.5, 1e300, "10" (a string) and true are not. raw is the field's
// JSON text, nil or null when the field is absent.
func parseScore(field string, raw json.RawMessage) (int64, error) {
	if raw == nil || string(raw) == "null" {
		return 0, apigw.Errorf(http.StatusBadRequest, "%s is required", field)
	}
	r, ok := new(big.Rat).SetString(string(raw))
	// big.Rat also reads "1/2" and "0x10", which are not JSON numbers.
	isNumber := (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') && !strings.ContainsAny(string(raw), "/xX")
	if !ok || !isNumber || !r.IsInt() || r.Num().CmpAbs(big.NewInt(MaxScore)) > 0 {
		return 0, apigw.Errorf(http.StatusBadRequest, "%s must be an integer between -%d and %d", field, int64(MaxScore), int64(MaxScore))
	}
	return r.Num().Int64(), nil
}
