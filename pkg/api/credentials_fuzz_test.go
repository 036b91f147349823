package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// FuzzBearer feeds api.Bearer, in front of GET /v1/team/{id}, any two headers (the
// Authorization header under any spelling of its name, and anything else). The answer
// is 200 only for the one token signed for fuzzTenant, under a name that is
// Authorization in some case; otherwise 401 {"message":"Not Authorized"}.
func FuzzBearer(f *testing.F) {
	fuzzShareDynamoDB(f)
	token := fuzzToken()
	for _, seed := range []struct{ name, value string }{
		{"authorization", "Bearer " + token},
		{"Authorization", "Bearer " + token},
		{"AUTHORIZATION", "bearer  " + token + " "},
		{"authorization", "Basic " + token},
		{"authorization", "Bearer"},
		{"authorization", "Bearer "},
		{"authorization", token},
		{"authorization", "Bearer " + token[:len(token)-2]},
		{"authorization", "Bearer " + strings.Replace(token, ".", "..", 1)},
		{"authorization", "Bearer not.a.token"},
		{"authorization", ""},
		{"cookie", "lb_session=" + fuzzSession},
		{"x-api-key", fuzzCreds.APIKey},
	} {
		f.Add(seed.name, seed.value, "x-other", "")
	}
	f.Add("authorization", "Bearer x", "Authorization", "Bearer "+token)
	f.Fuzz(func(t *testing.T, name, value, name2, value2 string) {
		headers := map[string]string{name: value, name2: value2}
		if name == name2 {
			headers = map[string]string{name: value}
		}
		req := fuzzRequest("GET", map[string]string{"id": fuzzTeam}, nil, nil, "")
		req.Headers = headers
		authn := api.Bearer(fuzzVerifier())

		tenant, err := authn.Authenticate(context.Background(), req)
		if err == nil && tenant != fuzzTenant {
			t.Fatalf("authenticated as tenant %q", tenant)
		}
		resp := fuzzCall(t, api.GetTeam(authn, newFuzzStore(t, nil)), req)
		// Two spellings of Authorization, neither lower-case, are read in map order; HTTP
		// API never sends them (it lower-cases names), so the two calls may differ.
		ambiguous := len(headers) == 2 && name != "authorization" && name2 != "authorization" &&
			strings.EqualFold(name, "authorization") && strings.EqualFold(name2, "authorization")
		switch resp.StatusCode {
		case 200:
			named := false
			for k := range headers {
				named = named || strings.EqualFold(k, "authorization")
			}
			if !named || err != nil && !ambiguous {
				t.Fatalf("200 for headers %q (Authenticate error %v)", headers, err)
			}
		case 401:
			if resp.Body != `{"message":"Not Authorized"}` || err == nil && !ambiguous {
				t.Fatalf("401 %s, Authenticate error %v", resp.Body, err)
			}
		default:
			t.Fatalf("status %d %s, want 200 or 401", resp.StatusCode, resp.Body)
		}
	})
}

// FuzzToken feeds GET /v1/token any x-api-key, x-client-id and x-client-secret. Only
// fuzzCreds, exactly, get a token (one that verifies for fuzzTenant); anything else is
// 401 {"message":"Invalid Credentials"}, or the store's answer when it fails.
func FuzzToken(f *testing.F) {
	fuzzShareDynamoDB(f)
	c := fuzzCreds
	other := auth.ClientIDPrefix + strings.Repeat("D", 22)
	for _, seed := range []struct{ key, id, secret string }{
		{c.APIKey, c.ClientID, c.ClientSecret},
		{c.APIKey, c.ClientID, c.ClientSecret + "x"},
		{c.APIKey + " ", c.ClientID, c.ClientSecret},
		{c.ClientSecret, c.ClientID, c.APIKey},
		{c.APIKey, other, c.ClientSecret},
		{c.APIKey, "lb_cid_short", c.ClientSecret},
		{c.APIKey, c.ClientID + "=", c.ClientSecret},
		{c.APIKey, "", c.ClientSecret},
		{"", c.ClientID, c.ClientSecret},
		{c.APIKey, c.ClientID, ""},
		{"", "", ""},
	} {
		f.Add(seed.key, seed.id, seed.secret, []byte{})
	}
	f.Add(c.APIKey, c.ClientID, c.ClientSecret, []byte{1})
	f.Add(c.APIKey, c.ClientID, c.ClientSecret, []byte{0, 1})
	f.Fuzz(func(t *testing.T, apiKey, clientID, secret string, outcomes []byte) {
		req := fuzzRequest("GET", nil, nil, map[string]string{"x-api-key": apiKey, "x-client-id": clientID, "x-client-secret": secret}, "")
		resp := fuzzCall(t, api.Token(newFuzzStore(t, outcomes), auth.NewSigner(fuzzSigningKey, fuzzClock)), req)
		right := apiKey == c.APIKey && clientID == c.ClientID && secret == c.ClientSecret
		switch {
		case resp.StatusCode == 200:
			if !right {
				t.Fatalf("a token for key %q, client %q, secret %q", apiKey, clientID, secret)
			}
			var answer struct{ AuthToken string }
			if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil {
				t.Fatal(err)
			}
			claims, err := fuzzVerifier().Verify(context.Background(), answer.AuthToken)
			if err != nil || claims.TenantID != fuzzTenant {
				t.Fatalf("issued token gives %+v, %v", claims, err)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Fatal("a token answer without Cache-Control: no-store")
			}
		case resp.StatusCode == 401:
			if resp.Body != `{"message":"Invalid Credentials"}` {
				t.Fatalf("401 %s", resp.Body)
			}
		case len(outcomes) > 0:
			// The store failed (fuzzAnswer has checked the answer's shape).
		default:
			t.Fatalf("status %d %s for credentials that are not right", resp.StatusCode, resp.Body)
		}
	})
}
