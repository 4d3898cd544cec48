// Package runner is strata's server: it takes webhook events from the
// forges, queues them durably, and turns them into plans, applies and
// comments, holding a lock per stack for the merge request that planned it.
// It also schedules drift scans.
//
// Drift (drift*.go): the server knows repositories only from webhooks, so
// it records each under repos/ in the store. Every replica queues a scan
// per repository and tick of drift.schedule; ticks are computed alike on
// every replica, the queue ID names repository and tick, and the
// repository's drift lock plus the last tick recorded in the store let
// one scan run per tick. Scans report through issues (one per drifted
// stack, found again by a hidden marker), an optional notify webhook and
// metrics read back from the store. Nothing is applied from a drift scan:
// fixes go through merge requests.
//
// The runner owns orchestration only. Terraform runs through package
// planner, repository analysis through package stacks.
package runner
