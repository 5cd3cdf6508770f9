package netmodel

import (
	"testing"
	"time"
)

// TestSendOnKeepsFIFOPerConnection: a message held back by retransmissions on
// one connection delays the messages behind it on that connection, but not a
// new connection's on the same link.
func TestSendOnKeepsFIFOPerConnection(t *testing.T) {
	net := newNet(t, Config{Latency: constant(100 * us)}, 2)
	var old, fresh time.Duration
	net.SetFaultLoss(0, 1, Ratio{Num: 1, Den: 1})
	if v := net.SendOn(0, 0, 1, 0, &old); !v.Lost || v.Retries != MaxRetries {
		t.Fatalf("certain loss: %+v, want lost after %d retries", v, MaxRetries)
	}
	net.ClearFaultLoss(0, 1)
	old = time.Hour // a message due in an hour is still ahead on the old connection
	if v := net.SendOn(0, 0, 1, 0, &old); v.Due != time.Hour || old != time.Hour {
		t.Errorf("old connection: due %v horizon %v, want both %v", v.Due, old, time.Hour)
	}
	if v := net.SendOn(0, 0, 1, 0, &fresh); v.Due != 100*us || fresh != 100*us {
		t.Errorf("new connection: due %v horizon %v, want both 100us", v.Due, fresh)
	}
	if v := net.Send(0, 0, 1); v.Due != 100*us {
		t.Errorf("link FIFO touched by SendOn: due %v", v.Due)
	}
}

// TestFaultLossReplacesAndRestoresProfile: a fault's loss takes the place
// of the link's configured loss while it lasts, and clearing it restores it.
func TestFaultLossReplacesAndRestoresProfile(t *testing.T) {
	net := newNet(t, Config{Latency: constant(100 * us)}, 2)
	net.SetFaultLoss(0, 1, Ratio{Num: 1, Den: 1})
	if v := net.Send(0, 0, 1); !v.Lost {
		t.Errorf("fault loss 1/1: %+v, want lost", v)
	}
	if v := net.Send(0, 1, 0); v.Lost || v.Retries != 0 {
		t.Errorf("reverse link affected: %+v", v)
	}
	net.ClearFaultLoss(0, 1)
	if v := net.Send(time.Second, 0, 1); v.Lost || v.Due != time.Second+100*us {
		t.Errorf("after clear: %+v, want delivered after 100us", v)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetFaultLoss(2/1) did not panic")
		}
	}()
	net.SetFaultLoss(0, 1, Ratio{Num: 2, Den: 1})
}
