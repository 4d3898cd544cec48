// Command strata is the CLI and server entry point: it parses flags, wires
// packages together and maps errors to exit codes. It holds no business
// logic.
package main
