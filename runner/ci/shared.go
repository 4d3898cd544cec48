package ci

import "strings"

// Unshared warns about --locks and --store URLs that name this runner's
// disk: jobs on other runners neither see those locks nor find those
// plans. Shared ones are dynamodb:// and s3:// (any scheme but file and
// bolt).
func Unshared(locksURL, storeURL string) []string {
	var out []string
	if local(locksURL, "bolt", "file") {
		out = append(out, "--locks "+locksURL+" is a file on this runner: jobs on other runners do not see its locks; use dynamodb://TABLE")
	}
	if local(storeURL, "file") {
		out = append(out, "--store "+storeURL+" is a directory on this runner: the apply job finds the plan job's plans only on the same runner; use s3://BUCKET/PREFIX")
	}
	return out
}

func local(url string, schemes ...string) bool {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		return true
	}
	for _, s := range schemes {
		if scheme == s {
			return true
		}
	}
	return false
}
