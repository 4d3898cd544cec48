// Package gittest builds real git repositories in temporary directories for
// tests, driving the git command line the way a user would.
package gittest
