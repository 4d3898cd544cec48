// Package runner is strata's server: it takes webhook events from the
// forges, queues them durably, and turns them into plans, applies and
// comments, holding a lock per stack for the merge request that planned it.
// It also schedules drift scans.
//
// The runner owns orchestration only. Terraform runs through package
// planner, repository analysis through package stacks.
package runner
