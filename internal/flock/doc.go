// Package flock provides exclusive and shared locks on files that hold
// between the goroutines of one process and between processes: the
// plugin cache of terraform init, a repository mirror being fetched, the
// local store's index and the bbolt lock file all take one.
//
// Decisions:
//   - The operating system's lock is flock(2) on Unix and LockFileEx on
//     Windows. Both belong to an open file, so the kernel drops a lock
//     with the process that held it: a crash never leaves a file locked.
//     Where neither exists, only the goroutines of one process are
//     ordered, and the doc of each caller says that one process must own
//     its directory there.
//   - Waiting honours the context. The system calls cannot wait on one,
//     so a waiter polls a non-blocking attempt, from 5 ms up to every
//     100 ms. Within a process, exclusive waiters on one path queue on a
//     channel first, so only one of them polls at a time.
//   - The package must not decide what a lock protects, nor log.
package flock
