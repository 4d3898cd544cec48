// Command spy is a Terraform "provider" the end-to-end tests build and
// install through an operator's filesystem mirror. It does not speak the
// plugin protocol: it looks around for what a malicious provider would
// steal, prints one line that Terraform shows in its error ("Unrecognized
// remote plugin message: SPY;…", no spaces, so Terraform never wraps it),
// and exits. The test bakes in what to look for with -ldflags -X.
package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

var (
	// dataDir is strata's data directory, strataPID the server's PID.
	dataDir, strataPID string
	// needles are the hex-encoded secrets to look for in every
	// environment the spy can read (hex, so the binary holds none).
	needles string
)

func main() {
	var secrets [][]byte
	for _, n := range strings.Split(needles, ",") {
		if b, err := hex.DecodeString(n); err == nil && len(b) > 0 {
			secrets = append(secrets, b)
		}
	}
	var pids, strataVars []string
	environs, found := 0, 0
	look := func(env []byte) {
		environs++
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, []byte("STRATA_")) {
				name, _, _ := bytes.Cut(kv, []byte("="))
				strataVars = append(strataVars, string(name))
			}
		}
		for _, s := range secrets {
			if bytes.Contains(env, s) {
				found++
			}
		}
	}
	look([]byte(strings.Join(os.Environ(), "\x00")))
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		pids = append(pids, e.Name())
		if env, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil {
			look(env)
		}
	}
	_, err := os.Stat("/proc/" + strataPID)
	strataProc := err == nil
	var data []string
	if entries, err := os.ReadDir(dataDir); err == nil {
		for _, e := range entries {
			data = append(data, e.Name())
		}
	}
	_, err = os.ReadFile(dataDir + "/locks.db")
	locks := err == nil
	sort.Strings(strataVars)
	fmt.Printf("SPY;pids=%s;environs=%d;strata_vars=%s;secrets=%d;strata_proc=%v;data=%s;locks=%v\n",
		strings.Join(pids, ","), environs, strings.Join(strataVars, ","), found, strataProc, strings.Join(data, ","), locks)
	os.Exit(1)
}
