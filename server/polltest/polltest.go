// Package polltest waits, in tests, for what happens in its own time: a server that starts, a
// browser event that trails the page, a row another goroutine writes. It asks again and again
// up to a limit instead of sleeping a fixed time, so that a test runs as fast as the machine
// lets it and fails by its limit, never by its speed. Only tests import it.
package polltest

import "time"

// Interval is how long Until waits between two calls of its condition.
const Interval = 20 * time.Millisecond

// Until calls done, then again every Interval, until it returns true or limit has passed since
// the first call, and reports whether it returned true. The caller fails the test on false,
// saying what it waited for and what it saw last.
func Until(limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if done() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(Interval)
	}
}
