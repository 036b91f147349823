package reqlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// The logger follows Lambda's advanced logging controls.
func TestNewLogger(t *testing.T) {
	cases := []struct {
		name, format, level string
		json, debug, info   bool
	}{
		{"defaults: JSON at INFO", "", "", true, false, true},
		{"text", "Text", "", false, false, true},
		{"debug", "JSON", "DEBUG", true, true, true},
		{"errors only", "JSON", "ERROR", true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			env := map[string]string{"AWS_LAMBDA_LOG_FORMAT": tc.format, "AWS_LAMBDA_LOG_LEVEL": tc.level}
			log := reqlog.NewLogger(func(k string) string { return env[k] }, &out)
			log.Debug("d")
			log.Info("i")
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if got := strings.Contains(out.String(), "msg=d") || strings.Contains(out.String(), `"msg":"d"`); got != tc.debug {
				t.Errorf("debug logged = %v: %q", got, out.String())
			}
			if got := strings.Contains(out.String(), "msg=i") || strings.Contains(out.String(), `"msg":"i"`); got != tc.info {
				t.Errorf("info logged = %v: %q", got, out.String())
			}
			if out.Len() > 0 {
				if isJSON := json.Valid([]byte(lines[0])); isJSON != tc.json {
					t.Errorf("JSON = %v: %q", isJSON, lines[0])
				}
			}
		})
	}
}

func TestEntryCollectsTenantAndCapacity(t *testing.T) {
	ctx, entry := reqlog.Start(context.Background())
	reqlog.SetTenant(ctx, "t1")
	one, half := 1.0, 0.5
	reqlog.AddRead(ctx, capacityOf(one), capacityOf(half))
	reqlog.AddWrite(ctx, capacityOf(2))
	reqlog.AddRead(context.Background(), capacityOf(9)) // no entry: ignored
	if r, w := entry.Capacity(); r != 1.5 || w != 2 || entry.Tenant() != "t1" {
		t.Fatalf("read %v write %v tenant %q", r, w, entry.Tenant())
	}
}
