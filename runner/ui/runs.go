package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// runFilter is what the runs list is narrowed to.
type runFilter struct {
	Repo, Stack, State, Op string
	MR                     int64
	Page                   int
}

func parseFilter(q url.Values) runFilter {
	f := runFilter{Repo: strings.Trim(q.Get("repo"), "/"), Stack: strings.Trim(q.Get("stack"), "/"), State: q.Get("state"), Op: q.Get("op")}
	f.MR, _ = strconv.ParseInt(q.Get("mr"), 10, 64)
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

func (f runFilter) match(rec *records.Record) bool {
	if (f.MR != 0 && rec.MR != f.MR) || (f.State != "" && string(rec.State) != f.State) || (f.Op != "" && string(rec.Operation) != f.Op) {
		return false
	}
	if f.Repo != "" && rec.RepoRef().String() != f.Repo {
		return false
	}
	return f.Stack == "" || slices.ContainsFunc(rec.Stacks, func(s records.StackOutcome) bool { return s.Dir == f.Stack })
}

// query is the list's query string with page p.
func (f runFilter) query(p int) string {
	v := url.Values{}
	for k, s := range map[string]string{"repo": f.Repo, "stack": f.Stack, "state": f.State, "op": f.Op} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.MR != 0 {
		v.Set("mr", strconv.FormatInt(f.MR, 10))
	}
	if p > 1 {
		v.Set("page", strconv.Itoa(p))
	}
	return "/ui/runs?" + v.Encode()
}

// maxCached bounds the finished records kept in memory (a few hundred
// bytes each); past it the cache starts again.
const maxCached = 100_000

// runRow is one run in the list.
type runRow struct {
	*records.Record
	Page  string // its run page
	MRURL string
}

// listRuns returns page f.Page of the runs that match f, newest first,
// and whether there are more. Run IDs sort by time, so only the records
// up to the end of the page are read; finished records never change and
// are read once.
func (u *UI) listRuns(ctx context.Context, f runFilter) ([]runRow, bool, error) {
	prefix := "runs/"
	if f.Repo != "" {
		prefix += f.Repo + "/"
	}
	keys, err := u.cfg.Store.List(ctx, prefix)
	if err != nil {
		return nil, false, err
	}
	if f.Repo != "" {
		active, err := u.cfg.Store.List(ctx, "runs/active/")
		if err != nil {
			return nil, false, err
		}
		keys = append(keys, active...)
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return !records.IsRecordKey(k) })
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(path.Base(b), path.Base(a)) })
	skip, size := (f.Page-1)*u.cfg.PageSize, u.cfg.PageSize
	var rows []runRow
	seen := map[string]bool{}
	for start := 0; start < len(keys); start += readBatch {
		batch := keys[start:min(start+readBatch, len(keys))]
		recs, err := u.records(ctx, batch)
		if err != nil {
			return nil, false, err
		}
		for i, rec := range recs {
			id := strings.TrimSuffix(path.Base(batch[i]), ".json")
			if rec == nil || seen[id] || !f.match(rec) {
				continue // gone, or the active record of a run that just ended
			}
			seen[id] = true
			if skip > 0 {
				skip--
				continue
			}
			if len(rows) == size {
				return rows, true, nil
			}
			rows = append(rows, u.runRow(rec))
		}
	}
	return rows, false, nil
}

// readBatch is how many records listRuns reads before it looks at them,
// readersOnce how many it reads at once.
const (
	readBatch   = 64
	readersOnce = 16
)

// records reads the records at keys, readersOnce at a time (a store is
// often S3, where each read is a round trip); a record that is gone is
// nil.
func (u *UI) records(ctx context.Context, keys []string) ([]*records.Record, error) {
	out := make([]*records.Record, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readersOnce)
	for i, k := range keys {
		g.Go(func() error {
			rec, err := u.record(gctx, k)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			out[i] = rec
			return err
		})
	}
	return out, g.Wait()
}

func (u *UI) runRow(rec *records.Record) runRow {
	row := runRow{Record: rec, Page: records.RunPage(rec.RepoRef(), rec.ID)}
	if rec.MR != 0 {
		row.MRURL = mrURL(u.cfg.ForgeWeb[rec.Forge], rec.Forge, rec.Repo, rec.MR)
	}
	return row
}

// record reads the run record at key; a finished one comes from the
// cache once read.
func (u *UI) record(ctx context.Context, key string) (*records.Record, error) {
	u.mu.Lock()
	rec := u.cache[key]
	u.mu.Unlock()
	if rec != nil {
		return rec, nil
	}
	data, err := u.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	rec = &records.Record{}
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, err
	}
	// A run closed as interrupted by another replica may still end on its
	// own and be written again; a running one is still changing.
	if rec.State != records.StateRunning && rec.State != records.StateInterrupted {
		u.mu.Lock()
		if len(u.cache) >= maxCached {
			clear(u.cache)
		}
		u.cache[key] = rec
		u.mu.Unlock()
	}
	return rec, nil
}

func (u *UI) runsPage(w http.ResponseWriter, r *http.Request, user User) {
	f := parseFilter(r.URL.Query())
	rows, more, err := u.listRuns(r.Context(), f)
	if err != nil {
		u.fail(w, "the run records", err)
		return
	}
	body := map[string]any{"Runs": rows, "Filter": f, "States": []records.State{records.StateRunning, records.StateCompleted,
		records.StateFailed, records.StateRefused, records.StateInterrupted}}
	if more {
		body["Next"] = f.query(f.Page + 1)
	}
	if f.Page > 1 {
		body["Prev"] = f.query(f.Page - 1)
	}
	u.render(w, "runs.html", page{Title: "Runs", User: user, Nav: "runs", Body: body})
}

// logSection is the lines of one stack (or strata's own) in a run's log.
type logSection struct {
	Name, Anchor string
	Text         string
}

// sections groups a log's lines by stack, in order of first appearance.
func sections(log []byte) []logSection {
	var out []logSection
	index := map[string]int{}
	var bufs []*strings.Builder
	for line := range bytes.Lines(log) {
		_, rest, _ := bytes.Cut(line, []byte(" "))
		name, _, ok := bytes.Cut(rest, []byte(" | "))
		key := "strata"
		if ok {
			key = string(name)
		}
		i, found := index[key]
		if !found {
			i = len(out)
			index[key] = i
			dir, ws, _ := strings.Cut(key, "@")
			out = append(out, logSection{Name: key, Anchor: records.StackAnchor(dir, ws)})
			bufs = append(bufs, &strings.Builder{})
		}
		bufs[i].Write(line)
	}
	for i := range out {
		out[i].Text = bufs[i].String()
	}
	return out
}

// runPage shows one run: GET /ui/runs/FORGE/OWNER/NAME/ID, and its log
// from a byte offset as plain text at …/ID/log?from=N (the live log).
func (u *UI) runPage(w http.ResponseWriter, r *http.Request, user User) {
	p := r.PathValue("path")
	raw := strings.HasSuffix(p, "/log")
	p = strings.TrimSuffix(p, "/log")
	i := strings.LastIndexByte(p, '/')
	forgeName, repoPath, ok := strings.Cut(p[:max(i, 0)], "/")
	if i < 0 || !ok || repoPath == "" {
		http.NotFound(w, r)
		return
	}
	repo, id := forge.RepoRef{Forge: forgeName, Path: repoPath}, p[i+1:]
	rec, active, err := (&records.Recorder{Store: u.cfg.Store}).Find(r.Context(), repo, id)
	if err != nil {
		u.fail(w, "the run record", err)
		return
	}
	if rec == nil {
		http.Error(w, "no run "+id+" of "+repo.String(), http.StatusNotFound)
		return
	}
	log, logActive, err := records.ReadLog(r.Context(), u.cfg.Store, repo, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		u.fail(w, "the run's log", err)
		return
	}
	running := active || logActive
	if raw {
		u.serveLog(w, r, log, running)
		return
	}
	u.render(w, "run.html", page{Title: "Run " + id, User: user, Nav: "runs", Body: map[string]any{
		"Run": u.runRow(rec), "Running": running, "Log": string(log), "Sections": sections(log),
		"LogURL": records.RunPage(repo, id) + "/log", "From": len(log),
	}})
}

// serveLog writes the log from byte ?from= up to its last whole line; the
// header X-Strata-Run says whether the run goes on.
func (u *UI) serveLog(w http.ResponseWriter, r *http.Request, log []byte, running bool) {
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	from = min(max(from, 0), len(log))
	rest := log[from:]
	if running {
		rest = rest[:bytes.LastIndexByte(rest, '\n')+1]
	}
	state := "ended"
	if running {
		state = "running"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Strata-Run", state)
	_, _ = w.Write(rest)
}
