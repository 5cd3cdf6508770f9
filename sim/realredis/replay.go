package realredis

// Replay: a scenario's topology, settings, workload and faults run against
// real servers in real time. The faults a real process can suffer (crash,
// restart, pause, resume, partition, heal, end) are applied by PID and by
// firewall rule; the others are refused by name before anything starts.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/workload"
)

// Options says where and how to run.
type Options struct {
	Server, CLI string
	Dir         string // node directories and logs (kept after the run)
	BasePort    int    // host mode: the first port to try; in a namespace any port is free
	PortSpan    int    // host mode: ports base..base+span-1 may be used
	Seed        uint64 // the clients' and the random targets' streams
	// Progress, when set, is told what the run does, a line at a time.
	Progress func(format string, a ...any)
}

// Result is what a real run recorded.
type Result struct {
	History []history.Op
	Events  []trace.Event // the observed trace (see Observer), faults included
	Nodes   []Node        // name, address, ID, log of every server
	End     time.Duration // how long the run lasted after the cluster was formed
}

// Unsupported lists what of s cannot run against real servers, each by
// name and line; empty when s can run. needNetns reports whether s needs a
// private network namespace (it partitions).
func Unsupported(s *scenarios.Scenario) (problems []string, needNetns bool) {
	for _, f := range s.Faults {
		switch f.Kind {
		case scenarios.Crash:
			if !f.Persist {
				problems = append(problems, fmt.Sprintf("%s:%d: crash with persist: false (a wiped nodes.conf) is not replayed on real servers", s.File, f.Line))
			}
		case scenarios.Restart, scenarios.Pause, scenarios.Resume, scenarios.End:
		case scenarios.Partition, scenarios.Heal:
			needNetns = true
		default:
			problems = append(problems, fmt.Sprintf("%s:%d: fault %q cannot be applied to real processes (supported: crash, restart, pause, resume, partition, heal, end)", s.File, f.Line, f.Kind))
		}
	}
	if len(s.Admin) > 0 {
		problems = append(problems, s.File+": admin steps are not replayed on real servers")
	}
	if s.Cluster.Spares > 0 || !s.Cluster.Formed {
		problems = append(problems, s.File+": cluster.spares and cluster.formed: false are not replayed on real servers")
	}
	if s.Cluster.Config.PingIntervalMs != 0 {
		problems = append(problems, s.File+": cluster-ping-interval is the simulator's hidden setting, not a redis.conf one")
	}
	if s.Network.Loss != (scenarios.Ratio{}) || len(s.Network.Links) > 0 || s.Network.Bandwidth != 0 {
		problems = append(problems, s.File+": network loss, bandwidth and links are not replayed on loopback")
	}
	if s.Workload.Wait > 0 || s.Workload.ReadFromReplicas {
		problems = append(problems, s.File+": workload wait and read-from-replicas are not replayed by the real clients")
	}
	return problems, needNetns
}

// Settings turns the scenario's redis.conf settings into name, value
// pairs for the servers' command lines.
func Settings(c scenarios.RedisConfig) []string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return []string{
		"cluster-node-timeout", strconv.Itoa(c.NodeTimeoutMs),
		"cluster-replica-validity-factor", strconv.Itoa(c.ReplicaValidityFactor),
		"cluster-migration-barrier", strconv.Itoa(c.MigrationBarrier),
		"cluster-allow-replica-migration", yes(c.AllowReplicaMigration),
		"cluster-require-full-coverage", yes(c.RequireFullCoverage),
		"cluster-replica-no-failover", yes(c.ReplicaNoFailover),
		"cluster-allow-reads-when-down", yes(c.AllowReadsWhenDown),
		"repl-ping-replica-period", strconv.Itoa(c.ReplPingReplicaPeriodS),
		"repl-timeout", strconv.Itoa(c.ReplTimeoutS),
		"min-replicas-to-write", strconv.Itoa(c.MinReplicasToWrite),
		"min-replicas-max-lag", strconv.Itoa(c.MinReplicasMaxLagS),
	}
}

// Run replays s against a real cluster it starts and kills again. Inside
// a namespace (see Reexec) every node and client has its own address;
// outside, every node is on 127.0.0.1 and s must not partition.
func Run(ctx context.Context, s *scenarios.Scenario, opt Options) (*Result, error) {
	if problems, netns := Unsupported(s); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	} else if netns && !InNamespace() {
		return nil, errors.New(s.File + ": partitions need the harness's network namespace")
	}
	say := opt.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	cfg, clientIPs, err := layout(s, opt)
	if err != nil {
		return nil, err
	}
	total := cfg.Masters * (1 + cfg.Replicas)
	procs := NewProcs()
	defer procs.KillAll()
	say("starting %d servers (%s) and forming the cluster", total, opt.Server)
	c, err := Start(ctx, cfg, procs)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	obs := NewObserver(c, start)
	r := &runner{s: s, c: c, obs: obs, clientIPs: clientIPs, rnd: rand.New(rand.NewPCG(opt.Seed, 0x6661756c7473)),
		seed: opt.Seed, down: map[string]bool{}, paused: map[string]bool{}}
	var wg sync.WaitGroup
	obsCtx, stopObs := context.WithCancel(ctx)
	defer stopObs()
	wg.Add(1)
	go func() { defer wg.Done(); obs.Run(obsCtx) }()
	clCtx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	cl, err := clientsOf(s, c, clientIPs, opt.Seed, start)
	if err != nil {
		return nil, err
	}
	if cl != nil {
		wg.Add(1)
		go func() { defer wg.Done(); cl.Run(clCtx) }()
	}
	say("cluster ok; running %s for %v of real time", s.Name, s.Duration)
	runErr := r.timeline(ctx, start, say)
	stopClients()
	stopObs()
	wg.Wait()
	obs.AddElections()
	res := &Result{Events: obs.Events(), End: time.Since(start)}
	if cl != nil {
		res.History = cl.History()
	}
	for _, n := range c.Nodes {
		res.Nodes = append(res.Nodes, *n)
	}
	if InNamespace() {
		_ = Heal()
	}
	c.Stop()
	if runErr == nil {
		runErr = ctx.Err()
	}
	return res, runErr
}

// layout places the nodes and clients: inside the namespace each on its own
// address (loopback brought up, any partition left by an earlier trial
// healed); outside, every node on 127.0.0.1 at the first free block of
// ports from opt.BasePort.
func layout(s *scenarios.Scenario, opt Options) (Config, []string, error) {
	total := s.Cluster.Masters * (1 + s.Cluster.ReplicasPerMaster)
	cfg := Config{Server: opt.Server, CLI: opt.CLI, Dir: opt.Dir, Masters: s.Cluster.Masters,
		Replicas: s.Cluster.ReplicasPerMaster, Settings: Settings(s.Cluster.Config), BasePort: opt.BasePort}
	if !InNamespace() {
		base, err := FreePorts("127.0.0.1", opt.BasePort, max(opt.PortSpan, total), total)
		cfg.BasePort = base
		return cfg, nil, err
	}
	var clientIPs []string
	for i := 0; i < total; i++ {
		cfg.IPs = append(cfg.IPs, NodeIP(i))
	}
	for i := 0; i < s.Workload.Clients; i++ {
		clientIPs = append(clientIPs, ClientIP(i))
	}
	if err := SetupLoopback(append(slices.Clone(cfg.IPs), clientIPs...)); err != nil {
		return cfg, nil, err
	}
	return cfg, clientIPs, Heal()
}

// clientsOf returns the scenario's clients against c, or nil without a
// workload.
func clientsOf(s *scenarios.Scenario, c *Cluster, ips []string, seed uint64, start time.Time) (*Clients, error) {
	w := s.Workload
	if w.Kind == "" || w.Kind == "none" || w.Clients == 0 {
		return nil, nil
	}
	keys, err := workload.NewKeyDist(w.Keys, w.ZipfMilli)
	if err != nil {
		return nil, err
	}
	return NewClients(Workload{Kind: w.Kind, Clients: w.Clients, Rate: w.Rate, Keys: keys, Timeout: w.Timeout,
		ReadRatio: w.ReadRatio, IPs: ips, Seed: seed}, c, start), nil
}

// runner applies the scenario's faults.
type runner struct {
	s         *scenarios.Scenario
	c         *Cluster
	obs       *Observer
	clientIPs []string
	rnd       *rand.Rand
	seed      uint64
	down      map[string]bool // crashed
	paused    map[string]bool
	order     []string                // crashed and paused nodes, latest last
	byID      map[string]func() error // the end of each lasting fault with an ID
	timed     []step                  // the ends of lasting faults with a For
}

// step is one thing to do at a moment of the run.
type step struct {
	at   time.Duration
	what string
	do   func() error
}

// timeline applies every fault at its time, then waits for the end.
func (r *runner) timeline(ctx context.Context, start time.Time, say func(string, ...any)) error {
	var steps []step
	r.byID = map[string]func() error{}
	// A jittered fault fires at an offset drawn from the trial's seed
	// (scenarios.FaultTimes), as in the simulator.
	at := scenarios.FaultTimes(r.s.Faults, rand.New(rand.NewPCG(r.seed, 0x6f666673657473)))
	for i, f := range r.s.Faults {
		steps = append(steps, step{at[i], string(f.Kind), r.apply(f, at[i])})
	}
	steps = append(steps, step{r.s.Duration, "end of the run", func() error { return nil }})
	for len(steps) > 0 {
		slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.at, b.at) })
		st := steps[0]
		steps = steps[1:]
		if st.at > r.s.Duration {
			continue
		}
		if err := sleepCtx(ctx, time.Until(start.Add(st.at))); err != nil {
			return err
		}
		if err := st.do(); err != nil {
			return fmt.Errorf("at %v, %s: %w", st.at, st.what, err)
		}
		say("%8.3fs %s", time.Since(start).Seconds(), st.what)
		steps = append(steps, r.timed...)
		r.timed = nil
	}
	return nil
}

// apply returns the action of fault f; a lasting fault registers its end
// under its ID (for end steps) and, with For, as a timed end.
func (r *runner) apply(f scenarios.Fault, at time.Duration) func() error {
	return func() error {
		var undo func() error
		switch f.Kind {
		case scenarios.Crash:
			n, err := r.node(f.Target)
			if err != nil {
				return err
			}
			if n.Pid == 0 {
				return fmt.Errorf("crash: %s is not running", n.Name)
			}
			// Recorded first: the process dies as the signal is sent, and
			// reaping it takes a moment more.
			r.obs.Record(trace.Event{Kind: trace.Crash, Node: n.Name, Value: "persist"})
			if err := r.c.Kill(n); err != nil {
				return err
			}
			r.down[n.Name] = true
			r.order = append(r.order, n.Name)
			undo = func() error { return r.restart(n) }
		case scenarios.Restart:
			n, err := r.node(f.Target)
			if err != nil {
				return err
			}
			return r.restart(n)
		case scenarios.Pause:
			n, err := r.node(f.Target)
			if err != nil {
				return err
			}
			if err := r.c.Pause(n); err != nil {
				return err
			}
			r.paused[n.Name] = true
			r.order = append(r.order, n.Name)
			r.obs.Record(trace.Event{Kind: trace.Fault, Node: n.Name, Value: "pause"})
			undo = func() error { return r.resume(n) }
		case scenarios.Resume:
			n, err := r.node(f.Target)
			if err != nil {
				return err
			}
			return r.resume(n)
		case scenarios.Partition:
			if err := r.partition(f.Groups); err != nil {
				return err
			}
			undo = r.heal
		case scenarios.Heal:
			return r.heal()
		case scenarios.End:
			u, ok := r.byID[f.EndID]
			if !ok {
				return fmt.Errorf("end: no lasting fault %q started", f.EndID)
			}
			delete(r.byID, f.EndID)
			return u()
		}
		if undo == nil {
			return nil
		}
		if f.ID != "" {
			r.byID[f.ID] = undo
		}
		if f.For > 0 {
			r.timed = append(r.timed, step{at + f.For, "end of the " + string(f.Kind) + " at " + at.String(), undo})
		}
		return nil
	}
}

func (r *runner) restart(n *Node) error {
	if !r.down[n.Name] {
		return nil // already up (restarted by a step before)
	}
	if err := r.c.Restart(n); err != nil {
		return err
	}
	delete(r.down, n.Name)
	r.obs.Record(trace.Event{Kind: trace.Restart, Node: n.Name})
	return nil
}

func (r *runner) resume(n *Node) error {
	if !r.paused[n.Name] {
		return nil
	}
	if err := r.c.Resume(n); err != nil {
		return err
	}
	delete(r.paused, n.Name)
	r.obs.Record(trace.Event{Kind: trace.Fault, Node: n.Name, Value: "resume"})
	return nil
}

func (r *runner) heal() error {
	if err := Heal(); err != nil {
		return err
	}
	r.obs.Record(trace.Event{Kind: trace.Heal, Value: "partition"})
	return nil
}

// unavailable says whether a node cannot answer (crashed or paused).
func (r *runner) unavailable(name string) bool { return r.down[name] || r.paused[name] }

// node resolves a node target at this moment, as the simulator does.
func (r *runner) node(t scenarios.Target) (*Node, error) {
	name, err := r.nodeName(t)
	if err != nil {
		return nil, err
	}
	n := r.c.Node(name)
	if n == nil {
		return nil, fmt.Errorf("no node %q", name)
	}
	return n, nil
}

func (r *runner) nodeName(t scenarios.Target) (string, error) {
	var live, masters []string
	for _, n := range r.c.Nodes {
		if !r.unavailable(n.Name) {
			live = append(live, n.Name)
			if r.obs.IsMaster(n.Name) {
				masters = append(masters, n.Name)
			}
		}
	}
	switch {
	case t.Name != "":
		return t.Name, nil
	case t.MasterOfSlot != nil:
		if o := r.obs.OwnerOf(*t.MasterOfSlot, r.unavailable); o != "" {
			return o, nil
		}
		return "", fmt.Errorf("no live master of slot %d", *t.MasterOfSlot)
	case t.ReplicaOf != nil:
		m, err := r.nodeName(*t.ReplicaOf)
		if err != nil {
			return "", err
		}
		if rep := r.obs.ReplicaOf(m, r.unavailable); rep != "" {
			return rep, nil
		}
		return "", fmt.Errorf("%s has no replica", m)
	case t.Crashed || t.Paused:
		set := r.down
		if t.Paused {
			set = r.paused
		}
		for i := len(r.order) - 1; i >= 0; i-- {
			if set[r.order[i]] {
				return r.order[i], nil
			}
		}
		return "", errors.New("no node is down")
	case t.AnyMaster && len(masters) > 0:
		return masters[r.rnd.IntN(len(masters))], nil
	case t.Random && len(live) > 0:
		return live[r.rnd.IntN(len(live))], nil
	}
	return "", fmt.Errorf("target %s matched no node", t)
}

// partition cuts the groups apart; a group holding rest takes every node
// and client not named elsewhere.
func (r *runner) partition(groups [][]scenarios.Target) error {
	var names []string // every endpoint, nodes first
	ip := map[string]string{}
	for _, n := range r.c.Nodes {
		names = append(names, n.Name)
		ip[n.Name] = n.IP
	}
	for i := range r.clientIPs {
		cn := "client-" + strconv.Itoa(i)
		names = append(names, cn)
		ip[cn] = r.clientIPs[i]
	}
	owner := map[string]int{}
	rest := -1
	for g, ts := range groups {
		for _, t := range ts {
			if t.Rest {
				rest = g
				continue
			}
			name := t.Name
			if !strings.HasPrefix(name, "client-") {
				var err error
				if name, err = r.nodeName(t); err != nil {
					return err
				}
			}
			if _, ok := ip[name]; !ok {
				return fmt.Errorf("partition: no endpoint %q", name)
			}
			owner[name] = g
		}
	}
	var byGroup [][]string
	var desc []string
	for g := range groups {
		var ips, members []string
		for _, n := range names {
			o, named := owner[n]
			if (named && o == g) || (!named && g == rest) {
				ips, members = append(ips, ip[n]), append(members, n)
			}
		}
		byGroup = append(byGroup, ips)
		desc = append(desc, strings.Join(members, " "))
	}
	for _, n := range names {
		if _, named := owner[n]; !named && rest < 0 {
			byGroup = append(byGroup, []string{ip[n]}) // alone, as the simulator leaves it
			desc = append(desc, n)
		}
	}
	if err := Partition(byGroup); err != nil {
		return err
	}
	r.obs.Record(trace.Event{Kind: trace.Partition, Value: strings.Join(desc, " | ")})
	return nil
}

// Preflight says whether server and cli can be run, naming every one that
// cannot (a bad --cli is reported on a machine without redis-server too).
func Preflight(server, cli string) error {
	var errs []error
	for _, b := range []string{server, cli} {
		if _, err := lookPath(b); err != nil {
			errs = append(errs, fmt.Errorf("%s not found (Debian: apt-get install redis-server): %v", b, err))
		}
	}
	return errors.Join(errs...)
}

func lookPath(b string) (string, error) {
	if strings.Contains(b, "/") {
		_, err := os.Stat(b)
		return b, err
	}
	return exec.LookPath(b)
}
