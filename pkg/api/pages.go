package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
)

// Page sizes of every list endpoint.
const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// pageScope is the scope a list's cursors are sealed in: the kind of list and whose it
// is (and, for a list inside a leaderboard, which one). A cursor opens only in the very
// list that made it. Ids hold no "/", so the parts cannot be re-split.
func pageScope(kind, tenant string, more ...string) string {
	return strings.Join(append([]string{kind, tenant}, more...), "/")
}

// pageParams reads a list request's ?limit= (an integer from 1 to 100, default 25) and
// ?cursor=. after is the position sealed in the cursor, nil on the first page. A
// cursor that was not sealed for scope (altered, forged, another tenant's or another
// list's) is cursor.ErrInvalid, which fail answers 400 "invalid cursor".
func pageParams(req apigw.Request, cursors *cursor.Sealer, scope string) (limit int, after []byte, err error) {
	limit = defaultPageSize
	if raw, ok := req.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(raw)
		// Digits only: no sign, spaces or anything else Atoi would let through.
		if err != nil || strings.Trim(raw, "0123456789") != "" || n < 1 || n > maxPageSize {
			return 0, nil, apigw.Errorf(http.StatusBadRequest, "limit must be an integer from 1 to %d", maxPageSize)
		}
		limit = n
	}
	if token, ok := req.QueryStringParameters["cursor"]; ok {
		if after, err = cursors.Open(scope, token); err != nil {
			return 0, nil, err
		}
	}
	return limit, after, nil
}

// nextCursor seals the position of a list's next page, or is "" when there is none.
func nextCursor(cursors *cursor.Sealer, scope, position string) string {
	if position == "" {
		return ""
	}
	return cursors.Seal(scope, []byte(position))
}
