package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// TestTenantQuotas holds each tenant to its own bucket in the table: over it, 429 with
// Retry-After and the RateLimit fields, while another tenant goes on; and a tenant's
// own limits, set in the table, override the defaults.
func TestTenantQuotas(t *testing.T) {
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	ctx := context.Background()
	key, _ := auth.KeyFromSeed([]byte(strings.Repeat("q", 64)))
	if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(key, time.Now)
	tokenOf := func() (string, string) {
		creds := auth.NewCredentials()
		tenant, err := s.CreateTenant(ctx, creds)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := signer.Issue(context.Background(), auth.Claims{TenantID: tenant, ClientID: creds.ClientID})
		if err != nil {
			t.Fatal(err)
		}
		return tenant, tok
	}
	limits := map[quota.Class]quota.Limits{quota.Write: {Rate: 1, Burst: 5}}
	h := api.CreateTeam(api.Limited(api.Bearer(auth.NewVerifier(s, time.Now)), quota.NewLimiter(s, limits, time.Now), quota.Write), s)
	create := func(tok string, i int) events.APIGatewayV2HTTPResponse {
		resp, err := h(ctx, events.APIGatewayV2HTTPRequest{
			Headers: map[string]string{"authorization": "Bearer " + tok}, Body: fmt.Sprintf(`{"teamName":"T%d"}`, i),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	_, a := tokenOf()
	for i := range 5 {
		if r := create(a, i); r.StatusCode != 201 {
			t.Fatalf("request %d of the burst: %d %s", i+1, r.StatusCode, r.Body)
		}
	}
	over := create(a, 6)
	if over.StatusCode != 429 || !strings.HasPrefix(over.Body, `{"message":"this account is over its write quota`) {
		t.Fatalf("over quota: %d %s", over.StatusCode, over.Body)
	}
	for k, want := range map[string]string{"Retry-After": "1", "RateLimit-Policy": `"write";q=5;w=5`, "RateLimit": `"write";r=0;t=1`} {
		if over.Headers[k] != want {
			t.Errorf("%s = %q, want %q", k, over.Headers[k], want)
		}
	}

	// Another tenant is not held back by the first.
	_, b := tokenOf()
	if r := create(b, 0); r.StatusCode != 201 {
		t.Errorf("tenant B: %d %s", r.StatusCode, r.Body)
	}
	// C's own limits: a burst of 20.
	tenantC, c := tokenOf()
	if err := s.SetQuota(ctx, tenantC, quota.Write, &quota.Limits{Rate: 1, Burst: 20}); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range 30 {
		if create(c, i).StatusCode == 201 {
			ok++
		}
	}
	if ok < 20 || ok > 22 { // the bucket refills one a second while this runs
		t.Errorf("tenant C with a burst of 20: %d of 30 allowed", ok)
	}
}

// TestTokenLimits: junk credentials from one address are refused in memory past its
// limit, and a tenant's good credentials past its token quota.
func TestTokenLimits(t *testing.T) {
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	ctx := context.Background()
	key, _ := auth.KeyFromSeed([]byte(strings.Repeat("t", 64)))
	creds := auth.NewCredentials()
	if _, err := s.CreateTenant(ctx, creds); err != nil {
		t.Fatal(err)
	}
	h := api.LimitedToken(s, auth.NewSigner(key, time.Now),
		quota.NewLimiter(s, map[quota.Class]quota.Limits{quota.Token: {Rate: 0.1, Burst: 2}}, time.Now),
		quota.NewLocal(quota.Limits{Rate: 0.1, Burst: 3}, time.Now))
	call := func(ip string, c auth.Credentials) events.APIGatewayV2HTTPResponse {
		req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"x-api-key": c.APIKey, "x-client-id": c.ClientID, "x-client-secret": c.ClientSecret}}
		req.RequestContext.HTTP.SourceIP = ip
		resp, err := h(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	junk := auth.NewCredentials()
	for i := range 3 {
		if r := call("203.0.113.9", junk); r.StatusCode != 401 {
			t.Fatalf("junk %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if r := call("203.0.113.9", junk); r.StatusCode != 429 || r.Headers["Retry-After"] == "" ||
		r.Body != `{"message":"too many requests from this address; try again in 10 seconds"}` {
		t.Errorf("junk past the address limit: %d %v %s", r.StatusCode, r.Headers, r.Body)
	}
	// The tenant's own quota, from addresses of its own.
	for i := range 2 {
		if r := call(fmt.Sprintf("198.51.100.%d", i), creds); r.StatusCode != 200 {
			t.Fatalf("token %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if r := call("198.51.100.9", creds); r.StatusCode != 429 || !strings.Contains(r.Body, "over its token quota") {
		t.Errorf("past the token quota: %d %s", r.StatusCode, r.Body)
	}
}
