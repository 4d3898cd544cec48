// Package secretenv keeps a server's secrets out of what other processes
// can read of it: it moves the secret variables out of the environment
// the kernel shows in /proc/<pid>/environ, and marks the process
// non-dumpable. It knows nothing of which variables are secret; the
// caller says.
//
// Decisions:
//   - Why a re-exec: /proc/<pid>/environ shows the environment block the
//     process was started with, in its own memory; os.Unsetenv changes
//     only Go's copy. Hide re-executes the program in place (same PID,
//     same arguments, execve of /proc/self/exe) with the secrets left out
//     of the new environment, handing them over in a memfd, and the new
//     image puts them back into Go's environment, where the process's own
//     code (os.Getenv) still finds them and /proc does not.
//   - Non-dumpable (prctl PR_SET_DUMPABLE 0, after the re-exec, since
//     execve resets it): /proc/<pid>/environ, mem and the other
//     ptrace-guarded files of the process are refused to processes of the
//     same user without CAP_SYS_PTRACE, and no core dump is written. A
//     root process with CAP_SYS_PTRACE still reads them: run the server
//     as a user of its own, and terraform in the sandbox (package
//     planner/tf), which sees no other process.
//   - Elsewhere than Linux, Hide and Protect do nothing: there is no
//     /proc, and ps shows a process's environment to its own user only.
package secretenv
