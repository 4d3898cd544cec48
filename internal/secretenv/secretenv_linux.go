package secretenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdVar names the descriptor of the memfd the secrets travel in across the
// re-exec; its presence tells Hide it runs in the re-executed image.
const fdVar = "STRATA_INTERNAL_SECRETS_FD"

// Hide takes the variables of the environment for which secret reports
// true out of the environment the kernel shows for this process, and
// keeps them in Go's (os.Getenv). It re-executes the program to do so:
// call it before anything else, as it returns only in the new image (or
// at once when there is nothing to hide). An error means the secrets could
// not be moved; they are then still where they were.
func Hide(secret func(name string) bool) error {
	if fd, ok := os.LookupEnv(fdVar); ok {
		return restore(fd)
	}
	kept := make([]string, 0, len(os.Environ()))
	moved := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && secret(k) {
			moved[k] = v
			continue
		}
		kept = append(kept, kv)
	}
	if len(moved) == 0 {
		return nil
	}
	data, err := json.Marshal(moved)
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate("strata-secrets", 0)
	if err != nil {
		return fmt.Errorf("hide secrets: %w", err)
	}
	f := os.NewFile(uintptr(fd), "strata-secrets")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("hide secrets: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("hide secrets: %w", err)
	}
	kept = append(kept, fdVar+"="+strconv.Itoa(fd))
	err = syscall.Exec("/proc/self/exe", os.Args, kept)
	f.Close()
	return fmt.Errorf("hide secrets: re-execute %s: %w", os.Args[0], err)
}

// restore reads the secrets back from the memfd into Go's environment.
func restore(fdText string) error {
	os.Unsetenv(fdVar)
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return fmt.Errorf("%s=%q is not a descriptor strata passed", fdVar, fdText)
	}
	f := os.NewFile(uintptr(fd), "strata-secrets")
	defer f.Close()
	syscall.CloseOnExec(fd)
	data, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return fmt.Errorf("read the secrets back: %w", err)
	}
	var moved map[string]string
	if err := json.Unmarshal(data, &moved); err != nil {
		return errors.New("read the secrets back: not what strata passed")
	}
	for k, v := range moved {
		os.Setenv(k, v)
	}
	return nil
}

// Protect marks the process non-dumpable.
func Protect() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("mark the process non-dumpable: %w", err)
	}
	return nil
}
