package realredis

// Partitions need a network of our own: the harness re-executes itself in
// new network and PID namespaces (root, or CAP_SYS_ADMIN), gives each node
// and client its own 127.0.0.x address there, and cuts links with nftables
// (or iptables) rules on those addresses. Nothing touches the host's
// network, and when the re-executed harness exits, for any reason, the
// kernel kills every process left in its PID namespace.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// childEnv carries the arguments of the re-executed harness (JSON): its
// presence says "you are inside the namespace".
const childEnv = "RCSIM_NETNS_ARGS"

// ChildArgs returns the arguments a re-executed harness must run with, and
// whether this process is one.
func ChildArgs() ([]string, bool) {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		return nil, false
	}
	return args, true
}

// InNamespace reports whether this process runs in a namespace Reexec made.
func InNamespace() bool { _, ok := os.LookupEnv(childEnv); return ok }

// NamespaceSupport says why partitions are impossible here, or nil: it
// needs the right to create namespaces and nft or iptables.
func NamespaceSupport() error {
	if InNamespace() {
		return nil
	}
	if _, err := firewall(); err != nil {
		return err
	}
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWPID}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot create a network namespace (%v): partitions need root or CAP_SYS_ADMIN", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("ip (iproute2) not found: needed to bring up loopback in the namespace")
	}
	return nil
}

// Reexec runs this program again with args in new network and PID
// namespaces and returns its exit code. The child dies with this process
// (parent-death signal); SIGINT and SIGTERM are passed on to it, and it
// cleans up.
func Reexec(args []string, stdout, stderr io.Writer) (int, error) {
	b, _ := json.Marshal(args)
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{exe}
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return 130, nil // killed by a signal
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// NodeIP and ClientIP are the addresses inside the namespace.
func NodeIP(i int) string   { return "127.0.0." + strconv.Itoa(10+i) }
func ClientIP(i int) string { return "127.0.0." + strconv.Itoa(100+i) }

// SetupLoopback brings up lo in the namespace with the addresses given.
func SetupLoopback(ips []string) error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	for _, ip := range ips {
		if out, err := exec.Command("ip", "addr", "add", ip+"/32", "dev", "lo").CombinedOutput(); err != nil &&
			!strings.Contains(string(out), "already assigned") && !strings.Contains(string(out), "exists") {
			return fmt.Errorf("ip addr add %s: %v: %s", ip, err, out)
		}
	}
	return nil
}

// firewall returns "nft" or "iptables", whichever is installed.
func firewall() (string, error) {
	for _, f := range []string{"nft", "iptables"} {
		if _, err := exec.LookPath(f); err == nil {
			return f, nil
		}
	}
	return "", errors.New("neither nft nor iptables found (apt-get install nftables): partitions cannot be made")
}

// Partition drops every packet between addresses of different groups
// (both ways; TCP retransmits, as across a real partition), replacing any
// partition before it. Only inside the namespace.
func Partition(groups [][]string) error {
	if !InNamespace() {
		return errors.New("partition: not inside the harness's network namespace")
	}
	if err := Heal(); err != nil {
		return err
	}
	fw, err := firewall()
	if err != nil {
		return err
	}
	for g, from := range groups {
		var to []string
		for h, other := range groups {
			if h != g {
				to = append(to, other...)
			}
		}
		if len(from) == 0 || len(to) == 0 {
			continue
		}
		if fw == "nft" {
			rule := fmt.Sprintf("add rule inet rcsim out ip saddr { %s } ip daddr { %s } drop",
				strings.Join(from, ", "), strings.Join(to, ", "))
			if err := nft("add table inet rcsim", "add chain inet rcsim out { type filter hook output priority 0 ; }", rule); err != nil {
				return err
			}
			continue
		}
		for _, s := range from {
			args := []string{"-A", "OUTPUT", "-s", s, "-d", strings.Join(to, ","), "-j", "DROP"}
			if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
	}
	return nil
}

// Heal removes every partition rule.
func Heal() error {
	if !InNamespace() {
		return errors.New("heal: not inside the harness's network namespace")
	}
	fw, err := firewall()
	if err != nil {
		return err
	}
	if fw == "nft" {
		return nft("flush ruleset")
	}
	if out, err := exec.Command("iptables", "-F", "OUTPUT").CombinedOutput(); err != nil {
		return fmt.Errorf("iptables -F OUTPUT: %v: %s", err, out)
	}
	return nil
}

func nft(cmds ...string) error {
	script := strings.Join(cmds, "\n") + "\n"
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s\n%s", err, out, script)
	}
	return nil
}
