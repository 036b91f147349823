package apigw_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// fuzzBody has every kind of field the handlers decode request bodies into: optional
// strings and string lists, raw numbers, nested objects and lists of objects.
type fuzzBody struct {
	TeamName *string         `json:"teamName"`
	Teams    *[]string       `json:"teams"`
	Score    json.RawMessage `json:"score"`
	Team     *struct {
		TeamName *string         `json:"teamName"`
		ID       json.RawMessage `json:"id"`
	} `json:"team"`
	Scores *[]struct {
		TeamID *string         `json:"teamId"`
		Score  json.RawMessage `json:"score"`
	} `json:"scores"`
	Flag  *bool   `json:"flag"`
	Count *int    `json:"count"`
	Ratio float64 `json:"ratio"`
}

// FuzzDecodeJSON feeds DecodeJSON any request body, plain or base64 (as HTTP API sends a
// body whose Content-Type is not text). It either decodes exactly one JSON value of at
// most MaxBodyBytes, or fails with a Problem the API answers as a 400 or 413 with a
// message: never a panic, and never an error the handlers would answer with a 500.
func FuzzDecodeJSON(f *testing.F) {
	for _, body := range []string{
		`{"teamName":"A"}`,
		`{"teamName":"A","admin":true}`,
		`{"teamName":"A"} {}`,
		`{"teamName":5}`,
		`{"teamName":null}`,
		`{"team":{"teamName":"B","id":"x"}}`,
		`{"team":null}`,
		`{"teams":"x"}`,
		`{"teams":[1]}`,
		`{"scores":[{"teamId":"01J00000000000000000000000","score":40},{"teamId":"x","score":0.5}]}`,
		`{"score":1e400}`,
		`{"flag":"yes","count":1.5,"ratio":1e999}`,
		`[]`,
		`null`,
		`"x"`,
		`{`,
		`{"teamName":"\ud800"}`,
		"{\"teamName\":\"\xff\"}",
		"",
		"   ",
	} {
		f.Add(body, false)
	}
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"teamName":"Encoded"}`)), true)
	f.Add("not base64!", true)
	f.Add(strings.Repeat(" ", apigw.MaxBodyBytes)+`{}`, false)

	f.Fuzz(func(t *testing.T, body string, isBase64 bool) {
		var v fuzzBody
		err := apigw.DecodeJSON(apigw.Request{Body: body, IsBase64Encoded: isBase64}, &v)
		decoded := body
		if isBase64 {
			b, decodeErr := base64.StdEncoding.DecodeString(body)
			if decodeErr != nil && err == nil {
				t.Fatal("a body that is not base64 was decoded")
			}
			decoded = string(b)
		}
		if err == nil {
			if len(decoded) > apigw.MaxBodyBytes {
				t.Fatalf("accepted a %d-byte body", len(decoded))
			}
			if !json.Valid([]byte(decoded)) {
				t.Fatalf("accepted %q, which is not one JSON value", decoded)
			}
			return
		}
		var problem *apigw.Problem
		if !errors.As(err, &problem) {
			t.Fatalf("error %v is not a Problem: the API would answer 500", err)
		}
		if problem.Status != http.StatusBadRequest && problem.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for a bad body", problem.Status)
		}
		if problem.Status == http.StatusRequestEntityTooLarge && len(decoded) <= apigw.MaxBodyBytes {
			t.Fatalf("413 for a %d-byte body", len(decoded))
		}
		if strings.TrimSpace(problem.Message) == "" {
			t.Fatal("a Problem without a message")
		}
		var answer map[string]any
		resp := apigw.Message(problem.Status, problem.Message)
		if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil || len(answer) != 1 {
			t.Fatalf("answer %s is not {\"message\": \"...\"}", resp.Body)
		}
		if msg, ok := answer["message"].(string); !ok || msg == "" {
			t.Fatalf("answer %s is not {\"message\": \"...\"}", resp.Body)
		}
	})
}
