// Package main is the strata command: the CLI and the server entry point.
// It parses flags, wires packages together and maps errors to exit codes;
// it holds no business logic.
package main
