package realredis

// Every process the harness starts is registered here and killed by its PID
// when the harness ends, on an error, a panic or a signal (Ctrl-C).

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
)

// Procs tracks the processes a run started.
type Procs struct {
	mu   sync.Mutex
	live map[int]*exec.Cmd
}

// NewProcs returns an empty registry.
func NewProcs() *Procs { return &Procs{live: map[int]*exec.Cmd{}} }

// Start starts cmd in its own process group (so a Ctrl-C reaches the
// harness, which then kills it, and never half the cluster), with SIGKILL
// as its parent-death signal (so it dies even if the harness is killed
// with SIGKILL), and registers it.
func (p *Procs) Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil {
		return fmt.Errorf("harness stopping: %s not started", cmd.Path)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.live[cmd.Process.Pid] = cmd
	return nil
}

// Signal sends sig to the registered process pid.
func (p *Procs) Signal(pid int, sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.live[pid]; !ok {
		return fmt.Errorf("pid %d: not a live process of this run", pid)
	}
	return syscall.Kill(pid, sig)
}

// Kill kills pid with SIGKILL and reaps it.
func (p *Procs) Kill(pid int) {
	p.mu.Lock()
	cmd, ok := p.live[pid]
	delete(p.live, pid)
	p.mu.Unlock()
	if ok {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

// KillAll kills and reaps every registered process; later Starts fail.
func (p *Procs) KillAll() {
	p.mu.Lock()
	live := p.live
	p.live = nil
	p.mu.Unlock()
	for pid, cmd := range live {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

// Reset lets the registry start processes again after KillAll.
func (p *Procs) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil {
		p.live = map[int]*exec.Cmd{}
	}
}

// OnSignal calls stop once on SIGINT, SIGTERM or SIGHUP; the returned
// function stops listening.
func OnSignal(stop func(os.Signal)) (cancel func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			stop(s)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
