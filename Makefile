# Leaderboard API. The two commands: `make local` (the API on http://127.0.0.1:3000)
# and `make test` (the whole suite). Needs Go 1.26+, Java 17+, Node/npm and a C
# compiler (for the race detector); DynamoDB Local is installed on first use into the
# user cache directory, outside the repository.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Logical ID -> folder under functions/. One line per function in template.yaml.
FUNCTIONS := \
	PingFunction:ping \
	TokenFunction:token \
	CreateTeamFunction:create-team \
	UpdateTeamFunction:update-team \
	GetTeamFunction:get-team \
	DeleteTeamFunction:delete-team \
	CreateLeaderboardFunction:create-leaderboard \
	GetLeaderboardFunction:get-leaderboard \
	UpdateLeaderboardFunction:update-leaderboard \
	ListTeamsFunction:list-teams \
	ListLeaderboardsFunction:list-leaderboards \
	DeleteLeaderboardFunction:delete-leaderboard \
	AddTeamsFunction:add-teams \
	RemoveTeamFunction:remove-team \
	SubmitScoresFunction:submit-scores \
	GetRankingsFunction:get-rankings \
	GetTeamRankFunction:get-team-rank \
	CheckBoardsFunction:check-boards \
	SignUpFunction:sign-up \
	SignInFunction:sign-in \
	SignOutFunction:sign-out \
	WhoAmIFunction:who-am-i \
	ListClientsFunction:list-clients \
	CreateClientFunction:create-client \
	RevokeClientFunction:revoke-client \
	DashboardFunction:dashboard \
	DashboardLeaderboardsFunction:dashboard-leaderboards \
	DashboardTeamsFunction:dashboard-teams \
	DashboardRankingsFunction:dashboard-rankings \
	DashboardTeamRankFunction:dashboard-team-rank \
	OpenAPIFunction:open-api \
	DocsFunction:docs

LAMBDA_GOARCH ?= arm64
GOBUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) go build -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: help local local-reset credentials test vet build check-go check-cc check-chromium

help:
	@echo "make local        the API on http://127.0.0.1:3000 with DynamoDB Local (Ctrl-C stops it)"
	@echo "make -s credentials   a new tenant's client credentials (while make local runs)"
	@echo "make test         go vet, unit and integration tests with -race"
	@echo "make build        every function's bootstrap into .aws-sam/build/<LogicalId>/"
	@echo "make local-reset  forget the local data"
	@echo "make stress       the property and concurrency tests through the AWS-behaviour layer, 200 seeds"
	@echo "make fuzz         every fuzz target for FUZZTIME (30s) each, stopping at the first failure"

check-go:
	@command -v go >/dev/null || { echo "make: go not found: install Go 1.26 or newer (https://go.dev/dl/)"; exit 1; }

check-cc:
	@command -v "$$(go env CC)" >/dev/null || { echo "make: no C compiler ($$(go env CC)) for the race detector: install gcc (e.g. apt-get install gcc)"; exit 1; }

check-chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { echo "make: chromium not found, for the dashboard's browser test: install it (e.g. apt-get install chromium)"; exit 1; }

local: check-go
	@go run ./cmd/local

local-reset:
	rm -rf .local/dynamodb

credentials: check-go
	@go run ./cmd/credentials

vet: check-go
	go vet ./...

test: vet check-cc check-chromium
	go test -race -count=1 -timeout 30m ./...

# The ranking property and concurrency tests through pkg/dynamofault (conflicts,
# throttling, transactions seen item by item, lost responses) over STRESS_SEEDS seeds,
# four at a time. It prints the seeds run, the operations applied, the faults injected by
# kind, and a replay command for each failing seed.
STRESS_SEEDS ?= 200
.PHONY: stress
stress: check-go
	@STRESS_SEEDS=$(STRESS_SEEDS) go test -count=1 -timeout 20m -run '^TestStress$$' -parallel 4 -v ./pkg/store | grep -v -e '^=== ' -e '^    --- PASS' -e '^--- PASS'; exit $${PIPESTATUS[0]}

# SAM (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set,
# after copying CodeUri (the repository root) so every function sees pkg/ and go.mod.
define build_target
.PHONY: build-$(1)
build-$(1):
	$$(GOBUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_target,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))

build: check-go
	@for f in $(FUNCTIONS); do id=$${f%%:*}; \
		$(MAKE) -s build-$$id ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/$$id || exit 1; done
	@for f in $(FUNCTIONS); do id=$${f%%:*}; echo "$$id $$(wc -c < .aws-sam/build/$$id/bootstrap)"; done | \
		awk 'BEGIN { printf "%-28s %10s\n", "FUNCTION", "SIZE (MB)" } { printf "%-28s %10.2f\n", $$1, $$2 / 1048576 }'

# make invoke: one function's real bootstrap under Amazon's Lambda Runtime Interface
# Emulator with one event, as `sam local invoke` does, without Docker (see events/README.md).
.PHONY: invoke bench-lambda

invoke: check-go
	@if [ -z "$(FUNCTION)" ] || [ -z "$(EVENT)" ]; then echo "make: usage: make invoke FUNCTION=<LogicalId> EVENT=<file>, e.g. make invoke FUNCTION=PingFunction EVENT=events/ping.json"; exit 1; fi
	@go run ./cmd/invoke -function $(FUNCTION) -event $(EVENT)

# Binary sizes, cold starts, warm latency and memory of every function (docs/performance.md).
bench-lambda: check-go
	@go run ./cmd/bench-lambda

# Ranks on boards of 1,000 to 100,000 teams: latency and capacity units of each read and
# of a submit, against the targets; then a hot board of 10,000 teams with 1 and 64
# clients, through pkg/dynamofault and without (docs/performance.md). About 7 minutes.
.PHONY: bench
bench: check-go
	@go run ./cmd/bench

# Every fuzz target (go test -fuzz) for FUZZTIME each, one after another, stopping at
# the first failure, whose input go test then writes to the package's
# testdata/fuzz/<Target>/ (and replays in every later `go test` until it is fixed). A
# plain `go test` (make test) runs each target's seed corpus as regression tests. New
# inputs are minimized for at most FUZZMINIMIZETIME: at go's default of 60s, minimizing
# takes most of a 30s run. Listing runs no test, so DYNAMODB_ENDPOINT keeps the packages
# whose TestMain is testdb.Main from starting DynamoDB Local just to list. About 13
# minutes at 30s a target.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 2s
.PHONY: fuzz
fuzz: check-go
	@pkgs=$$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...) || exit 1; \
	for pkg in $$pkgs; do \
		targets=$$(DYNAMODB_ENDPOINT=unused go test -list '^Fuzz' $$pkg) || { echo "$$targets"; exit 1; }; \
		for target in $$(grep '^Fuzz' <<< "$$targets"); do \
			echo "make fuzz: $$target ($$pkg) for $(FUZZTIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
		done; \
	done
