package realredis

// A real cluster: N redis-server processes on loopback addresses, formed
// with `redis-cli --cluster create` (clusterManagerCommandCreate), the
// scenario's node names mapped onto them, and the process faults (SIGKILL,
// SIGSTOP, SIGCONT, restart from nodes.conf) applied by PID.

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is how to start a cluster.
type Config struct {
	Server   string   // redis-server (or a compatible build)
	CLI      string   // redis-cli, for --cluster create
	Dir      string   // each node's working directory and log go under it
	Masters  int      // number of masters
	Replicas int      // replicas per master
	Settings []string // redis.conf settings as name, value pairs: "cluster-node-timeout", "2000"
	// IPs is the address of each node; nil: every node on 127.0.0.1 (ports
	// differ). Distinct IPs are for a private network namespace, where a
	// partition filters by address.
	IPs      []string
	BasePort int // node i listens on BasePort+i (its bus on +10000)
}

// Node is one server process of the cluster.
type Node struct {
	Name string // the scenario's name: m0, m0r0, …
	IP   string
	Port int
	ID   string // the 40-hex cluster node ID
	Dir  string
	Log  string
	Pid  int // 0 while down
	args []string
}

// Addr is "ip:port".
func (n *Node) Addr() string { return net.JoinHostPort(n.IP, strconv.Itoa(n.Port)) }

// Cluster is a running cluster. Every process it started is in Procs.
type Cluster struct {
	cfg   Config
	Procs *Procs
	Nodes []*Node // in the scenario's order: masters m0…, then replicas m0r0…
}

// Start boots the servers, forms the cluster and waits until every node
// says cluster_state:ok and every replica's link to its master is up. On
// an error the processes it started are killed.
func Start(ctx context.Context, cfg Config, procs *Procs) (_ *Cluster, err error) {
	c := &Cluster{cfg: cfg, Procs: procs}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	total := cfg.Masters * (1 + cfg.Replicas)
	var nodes []*Node
	for i := 0; i < total; i++ {
		ip := "127.0.0.1"
		if cfg.IPs != nil {
			ip = cfg.IPs[i]
		}
		n := &Node{IP: ip, Port: cfg.BasePort + i, Dir: filepath.Join(cfg.Dir, "node"+strconv.Itoa(i))}
		n.Log = filepath.Join(n.Dir, "redis.log")
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return nil, err
		}
		n.args = serverArgs(cfg, n)
		nodes = append(nodes, n)
		if err := c.boot(n); err != nil {
			return nil, err
		}
	}
	for _, n := range nodes {
		if err := waitUp(ctx, n, 5*time.Second); err != nil {
			return nil, err
		}
	}
	args := []string{"--cluster", "create"}
	for _, n := range nodes {
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(cfg.Replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cfg.CLI, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s --cluster create: %v\n%s", cfg.CLI, err, out)
	}
	if err := c.name(ctx, nodes); err != nil {
		return nil, err
	}
	return c, c.waitReady(ctx, 30*time.Second)
}

func serverArgs(cfg Config, n *Node) []string {
	a := []string{"--port", strconv.Itoa(n.Port), "--bind", n.IP, "--dir", n.Dir,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", n.Log,
		"--repl-diskless-sync-delay", "0"}
	if cfg.IPs != nil {
		// Outgoing bus and replication links leave from the node's own
		// address (Redis 7.0's bind-source-addr), so a partition can filter
		// on it. Protected mode counts only 127.0.0.1 and ::1 as loopback;
		// inside the private namespace no one else can connect anyway.
		a = append(a, "--bind-source-addr", n.IP, "--protected-mode", "no")
	}
	for i := 0; i+1 < len(cfg.Settings); i += 2 {
		a = append(a, "--"+cfg.Settings[i], cfg.Settings[i+1])
	}
	return a
}

// boot starts n's process. Servers log in UTC so their log times parse
// without the local zone.
func (c *Cluster) boot(n *Node) error {
	cmd := exec.Command(c.cfg.Server, n.args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Dir = n.Dir
	if err := c.Procs.Start(cmd); err != nil {
		return fmt.Errorf("start %s: %v", c.cfg.Server, err)
	}
	n.Pid = cmd.Process.Pid
	return nil
}

func waitUp(ctx context.Context, n *Node, limit time.Duration) error {
	return poll(ctx, limit, "redis-server on "+n.Addr()+" answering PING (see "+n.Log+")", func() bool {
		r, err := Command(n.Addr(), 200*time.Millisecond, "PING")
		return err == nil && r.Str == "PONG"
	})
}

// name maps the scenario's names onto the formed cluster: masters ordered
// by their first slot are m0…, each master's replicas ordered by port are
// mXr0….
func (c *Cluster) name(ctx context.Context, nodes []*Node) error {
	var lines []NodeLine
	err := poll(ctx, 20*time.Second, "every replica attached (CLUSTER NODES)", func() bool {
		r, err := Command(nodes[0].Addr(), time.Second, "CLUSTER", "NODES")
		if err != nil || r.Err != "" {
			return false
		}
		lines = ParseNodes(r.Str)
		attached := 0
		for _, l := range lines {
			if l.MasterID != "" {
				attached++
			}
		}
		return len(lines) == len(nodes) && attached == c.cfg.Masters*c.cfg.Replicas
	})
	if err != nil {
		return err
	}
	byAddr := map[string]*Node{}
	for _, n := range nodes {
		byAddr[n.Addr()] = n
	}
	var masters []NodeLine
	for _, l := range lines {
		byAddr[l.Addr].ID = l.ID
		if l.Master() {
			masters = append(masters, l)
		}
	}
	slices.SortFunc(masters, func(a, b NodeLine) int { return cmp.Compare(firstSlot(a.Slots), firstSlot(b.Slots)) })
	for m, ml := range masters {
		n := byAddr[ml.Addr]
		n.Name = "m" + strconv.Itoa(m)
		c.Nodes = append(c.Nodes, n)
	}
	for m, ml := range masters {
		r := 0
		for _, n := range nodes {
			for _, l := range lines {
				if l.Addr == n.Addr() && l.MasterID == ml.ID {
					n.Name = "m" + strconv.Itoa(m) + "r" + strconv.Itoa(r)
					r++
					c.Nodes = append(c.Nodes, n)
				}
			}
		}
	}
	return nil
}

func firstSlot(ranges string) int {
	lo, _, _ := strings.Cut(strings.Split(ranges, ",")[0], "-")
	n, err := strconv.Atoi(lo)
	if err != nil {
		return 1 << 30
	}
	return n
}

// waitReady waits for cluster_state:ok everywhere and every replica's
// master link up, then a second more so the replicas have sent their
// offsets in a few pings (the election's rank uses them).
func (c *Cluster) waitReady(ctx context.Context, limit time.Duration) error {
	err := poll(ctx, limit, "cluster_state:ok on every node and every replica in sync", func() bool {
		for _, n := range c.Nodes {
			r, err := Command(n.Addr(), time.Second, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(r.Str, "cluster_state:ok") {
				return false
			}
			if strings.Contains(n.Name, "r") {
				r, err := Command(n.Addr(), time.Second, "INFO", "replication")
				if err != nil || !strings.Contains(r.Str, "master_link_status:up") {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return sleepCtx(ctx, time.Second)
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Kill sends SIGKILL to n (a crash: nodes.conf survives on disk).
func (c *Cluster) Kill(n *Node) error {
	if n.Pid == 0 {
		return fmt.Errorf("%s is not running", n.Name)
	}
	c.Procs.Kill(n.Pid)
	n.Pid = 0
	return nil
}

// Restart starts n again from its nodes.conf.
func (c *Cluster) Restart(n *Node) error {
	if n.Pid != 0 {
		return fmt.Errorf("%s is running", n.Name)
	}
	return c.boot(n)
}

// Pause sends SIGSTOP to n; Resume sends SIGCONT.
func (c *Cluster) Pause(n *Node) error { return c.signal(n, syscall.SIGSTOP) }

// Resume sends SIGCONT to n.
func (c *Cluster) Resume(n *Node) error { return c.signal(n, syscall.SIGCONT) }

func (c *Cluster) signal(n *Node, sig syscall.Signal) error {
	if n.Pid == 0 {
		return fmt.Errorf("%s is not running", n.Name)
	}
	return c.Procs.Signal(n.Pid, sig)
}

// Stop kills every process of the cluster.
func (c *Cluster) Stop() {
	c.Procs.KillAll()
	for _, n := range c.Nodes {
		n.Pid = 0
	}
}

// Command runs one command on a fresh connection.
func Command(addr string, timeout time.Duration, args ...string) (Reply, error) {
	conn, err := Dial(addr, "", timeout)
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	return conn.Do(time.Now().Add(timeout), args...)
}

// ElectionStarts reads a server log for "Starting a failover election for
// epoch N." (clusterHandleSlaveFailover) and returns when each line was
// written and its epoch.
func ElectionStarts(path string) (at []time.Time, epochs []uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	const marker = "Starting a failover election for epoch "
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, marker)
		if i < 0 {
			continue
		}
		// "1234:S 01 Dec 2026 21:44:31.123 # Starting …"
		_, rest, ok := strings.Cut(line, " ")
		if !ok || len(rest) < 24 {
			continue
		}
		t, err := time.ParseInLocation("02 Jan 2006 15:04:05.000", rest[:24], time.UTC)
		if err != nil {
			continue
		}
		e, _ := strconv.ParseUint(strings.TrimSuffix(line[i+len(marker):], "."), 10, 64)
		at, epochs = append(at, t), append(epochs, e)
	}
	return at, epochs, sc.Err()
}

// poll calls ok every 10 ms until it holds, limit passes or ctx ends.
func poll(ctx context.Context, limit time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// FreePorts returns the first base in [from, from+span) such that base..
// base+n-1 and their bus ports (+10000) can all be bound on ip now, so runs
// of other users with their own port ranges, or a stale server, never
// collide with this one.
func FreePorts(ip string, from, span, n int) (int, error) {
	for base := from; base+n <= from+span; base += n {
		if portsFree(ip, base, n) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d free ports (and bus ports +10000) on %s in %d..%d", n, ip, from, from+span-1)
}

func portsFree(ip string, base, n int) bool {
	for p := base; p < base+n; p++ {
		for _, port := range []int{p, p + 10000} {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				return false
			}
			l.Close()
		}
	}
	return true
}
