package main

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes, the one place they are defined (DESIGN.md "Errors and exit
// codes").
const (
	exitOK       = 0 // every expectation held
	exitFailed   = 1 // an expectation or a check failed
	exitBadInput = 2 // bad input or usage
	exitSimBug   = 3 // the simulator itself failed (a panic)
)

// inputError marks bad input or usage: exit 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// failedError marks a run whose expectations or checks failed: exit 1. The
// details were already printed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

// simBugError marks a panic inside the simulator: exit 3.
type simBugError struct{ msg string }

func (e simBugError) Error() string { return e.msg }

// childExit carries the exit code of the same command re-executed in a
// private network namespace (replay and calibrate with partitions).
type childExit struct{ code int }

func (e childExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func badInput(format string, a ...any) error { return inputError{fmt.Errorf(format, a...)} }

// exitCode maps an error from a command to the process exit code and prints
// it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var f failedError
	var b simBugError
	var c childExit
	switch {
	case errors.As(err, &c):
		return c.code // the child printed its own messages
	case errors.As(err, &f):
		fmt.Fprintln(stderr, "rcsim:", f.msg)
		return exitFailed
	case errors.As(err, &b):
		fmt.Fprintln(stderr, b.msg)
		return exitSimBug
	default:
		fmt.Fprintln(stderr, "rcsim:", err)
		return exitBadInput
	}
}
