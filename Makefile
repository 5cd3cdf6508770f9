# rcsim: `make run` runs the default failover scenario end to end; `make test`
# runs the whole test suite. Everything else is for developers.

GO        ?= go
SCENARIO  ?= master-crash
SEED      ?= 7
OUT       ?= out
GOLDEN_PKGS = ./sim/ ./sim/nodetest/ ./checker/ ./reports/

.PHONY: run test bench bench-scale lint golden proptest fuzz calibrate build clean

build:
	$(GO) build -o bin/rcsim ./cmd/rcsim

# Every timeout here lets master-crash's failover-within: 10s hold, so a
# first report is clean (T = 15000 cannot: detection alone takes T).
SWEEP_TIMEOUTS ?= 1000,2000,3000,5000
SWEEP_SEEDS    ?= 1..20

run: build
	./bin/rcsim run $(SCENARIO) --seed $(SEED) --out $(OUT)/$(SCENARIO)
	./bin/rcsim report $(OUT)/$(SCENARIO)
	rm -rf $(OUT)/$(SCENARIO)-sweep
	./bin/rcsim sweep $(SCENARIO) --set cluster-node-timeout=$(SWEEP_TIMEOUTS) --seeds $(SWEEP_SEEDS) --out $(OUT)/$(SCENARIO)-sweep
	./bin/rcsim report $(OUT)/$(SCENARIO)-sweep
	@echo "open $(OUT)/$(SCENARIO)-sweep/report/report.html (plots, percentiles, verdicts; summary.csv beside it)"

test:
	$(GO) vet ./...
	RAPID_NOFAILFILE=1 $(GO) test -count=1 -timeout 9m ./...

bench:
	$(GO) test -run '^$$' -bench . -skip Scale -benchmem -benchtime 3x ./sim/...
	$(GO) test -run '^$$' -bench . -benchmem ./netmodel/... ./checker/...

# Cost against cluster size, 6 to 2,000 nodes, one core (16 minutes on an
# idle core, and 6.5 GiB for the 2,000-node mass failure): the figures
# behind the README's scaling plot, which it redraws.
SCALE_DATA = reports/testdata/scale-bench.txt
bench-scale:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'Scale' -benchtime 1x -benchmem -timeout 0 ./sim/ | tee $(SCALE_DATA)
	$(GO) test -count=1 -run TestScalePlot ./reports/ -update

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool -modfile=tools/lint.mod staticcheck ./...

golden:
	$(GO) test -count=1 $(GOLDEN_PKGS) -update

# Property tests: `make test` runs 8 rapid checks of each; this runs
# PROPCHECKS (set through RAPID_CHECKS, which only rapid's packages read).
PROPCHECKS ?= 500
proptest:
	RAPID_NOFAILFILE=1 RAPID_CHECKS=$(PROPCHECKS) $(GO) test -count=1 -timeout 60m -run 'Prop|Property' ./...

# Fuzz each parser and the node's message handling for FUZZTIME.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./scenarios/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./checker/history/
	$(GO) test -run '^$$' -fuzz '^FuzzReadJepsen$$' -fuzztime $(FUZZTIME) ./checker/history/
	$(GO) test -run '^$$' -fuzz '^FuzzStep$$' -fuzztime $(FUZZTIME) ./node/
	$(GO) test -run '^$$' -fuzz '^FuzzStepAnyState$$' -fuzztime $(FUZZTIME) ./node/

# Compare the simulator with a real Redis 7.0 (apt-get install redis-server):
# TRIALS real failovers per fault and node timeout against SEEDS simulated
# ones (README "Real servers"); partitions only as root.
TRIALS   ?= 4
SEEDS    ?= 100
TIMEOUTS ?= 1000,2000
calibrate: build
	./bin/rcsim calibrate --trials $(TRIALS) --seeds $(SEEDS) --timeouts $(TIMEOUTS) --out $(OUT)/calibrate

clean:
	rm -rf bin out
