package mirror

import "testing"

func TestPullRequestHeadsAreFetched(t *testing.T) {
	r := newRemote(t)
	r.commit("main.tf", "# one")
	m, _ := newMirrors(t)
	fetchOK(t, m, "github/acme/infra", r.url) // no pull refs yet: not an error

	// A fork's head lives only under refs/pull on the base repository;
	// refs/pull/N/merge is GitHub's test merge, which strata never plans.
	r.work.Git("checkout", "-q", "-b", "fork")
	fork := r.commit("fork.tf", "# from a fork")
	r.git("update-ref", "refs/pull/3/head", fork)
	r.git("update-ref", "refs/pull/3/merge", fork)
	r.git("branch", "-D", "fork")

	mr := fetchOK(t, m, "github/acme/infra", r.url)
	got := refs(t, mr)
	if got["refs/pull/3/head"] != fork {
		t.Fatalf("refs = %v, want refs/pull/3/head = %s", got, fork)
	}
	if _, ok := got["refs/pull/3/merge"]; ok {
		t.Errorf("the test merge ref was fetched: %v", got)
	}
}
