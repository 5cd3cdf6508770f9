package realredis

// A minimal RESP2 client: one command at a time on one TCP connection, with a
// deadline per command. Hand-written rather than a library because the
// harness must see every reply as the server sent it (MOVED, CLUSTERDOWN,
// a timeout after the command left) to record an honest history; a
// cluster-aware library would follow redirections and retry on its own.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Reply is one RESP2 reply. Err holds an error reply's text ("MOVED 3999
// 127.0.0.1:7002"); it is the server's answer, not an I/O failure.
type Reply struct {
	Str   string  // simple string, bulk string, or the text of an integer
	Int   int64   // integer reply
	Nil   bool    // null bulk string or null array
	Array []Reply // array reply
	Err   string  // error reply
}

// Conn is one connection to a node.
type Conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// Dial connects to addr within timeout, from local (an IP; "" lets the
// kernel choose).
func Dial(addr, local string, timeout time.Duration) (*Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// ErrNotSent marks a command that never fully left the client: the server
// cannot have executed it.
var ErrNotSent = errors.New("command not sent")

// Do sends one command and reads its reply before deadline. An error
// wrapping ErrNotSent means the server never got the command; any other
// error means it may have executed it (the reply was lost or late).
func (c *Conn) Do(deadline time.Time, args ...string) (Reply, error) {
	if err := c.c.SetDeadline(deadline); err != nil {
		return Reply{}, fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.w.Flush(); err != nil {
		return Reply{}, fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	return readReply(c.r)
}

// readReply parses one reply (RESP2: + - : $ *).
func readReply(r *bufio.Reader) (Reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return Reply{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return Reply{}, errors.New("resp: empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return Reply{Str: body}, nil
	case '-':
		return Reply{Err: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return Reply{Int: n, Str: body}, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return Reply{}, fmt.Errorf("resp: bad bulk length %q", body)
		}
		if n < 0 {
			return Reply{Nil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		return Reply{Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return Reply{}, fmt.Errorf("resp: bad array length %q", body)
		}
		if n < 0 {
			return Reply{Nil: true}, nil
		}
		out := Reply{Array: make([]Reply, n)}
		for i := range out.Array {
			if out.Array[i], err = readReply(r); err != nil {
				return Reply{}, err
			}
		}
		return out, nil
	}
	return Reply{}, fmt.Errorf("resp: unknown reply type %q", line[0])
}
