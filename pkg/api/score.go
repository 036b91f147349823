package api

import (
	"encoding/json"
	"math/big"
	"net/http"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// MaxScore bounds every score: 2^53-1 is the largest integer every JSON client
// (JavaScript's Number above all) holds exactly.
const MaxScore = 1<<53 - 1

// parseScore reads a JSON number that must be an integer within +/-MaxScore.
// "1e3" is accepted as 1000; "1.5", "1e300" and strings are not.
func parseScore(field string, n *json.Number) (int64, error) {
	if n == nil {
		return 0, apigw.Errorf(http.StatusBadRequest, "%s is required", field)
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || !r.IsInt() || r.Num().CmpAbs(big.NewInt(MaxScore)) > 0 {
		return 0, apigw.Errorf(http.StatusBadRequest, "%s must be an integer between -%d and %d", field, int64(MaxScore), int64(MaxScore))
	}
	return r.Num().Int64(), nil
}
