// Package ui is strata's web page under /ui: the locks (owner, merge
// request, age; force-unlock for admins), the runs (filtered by
// repository, merge request, stack and state, a page at a time; each
// run's log, followed live while it runs), the drift of every repository
// and stack with the last scan's time, and the queue's depth and dead
// letters. It must not change anything but a lock (force-unlock, with an
// audit record), and it keeps nothing that matters in memory: it reads
// the durable records (store, locks, queue), so every replica shows the
// same page.
//
// Decisions:
//   - Server-rendered html/template pages, styles inline, no build step;
//     the one script (live.js) follows a running log by fetching what
//     came after the bytes already shown. Templates escape everything
//     users wrote (branch names, errors, lock owners, terraform output),
//     and the Content-Security-Policy allows no inline script.
//   - Nothing is shown anonymously. Sign-in is a users file (bcrypt
//     hashes, roles viewer and admin) or a header set by an
//     authenticating proxy, trusted only from the proxy's address range
//     (its admins named by the server's flags). A sign-in is a cookie
//     signed with the session key (HMAC-SHA256: name, role, expiry), so
//     any replica with the same key accepts it; SameSite=Strict and
//     HttpOnly.
//   - The sign-in form carries an HMAC of a nonce in a cookie of its own,
//     so a form posted from another site signs nobody in (login CSRF).
//   - Every form that changes something carries a CSRF token, an HMAC of
//     the user, role and day under the session key, checked before
//     anything else; force-unlock also needs the admin role, a
//     confirmation page, and the owner the admin confirmed still holding
//     the lock. The audit record (records.AuditKey) is written before the
//     lock is released: no unlock goes unrecorded.
//   - Runs list: run IDs sort by time, so the list is the record keys
//     sorted newest first, read up to the end of the page asked for.
//     Finished records never change (but an interrupted one, which its
//     own run may still overwrite), so each is read from the store once
//     and kept (up to 100,000 of them, then the cache starts again);
//     BenchmarkRunsPage measures a page of 10,000 runs.
package ui
