// Package synth generates synthetic Terraform monorepos for benchmarks:
// many stacks calling chains of local modules, committed to a real git
// repository, with a second commit that changes a given number of files.
package synth
