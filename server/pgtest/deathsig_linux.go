package pgtest

import "syscall"

// dieWithParent makes the server go when the test binary dies without TestMain's cleanup (a
// panic, a timeout): SIGQUIT is PostgreSQL's immediate shutdown. Only Linux has it.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGQUIT }
