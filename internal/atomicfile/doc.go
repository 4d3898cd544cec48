// Package atomicfile writes files so that no reader ever sees half of
// one: the data goes to a temporary file next to the target, which is
// then renamed into place.
package atomicfile
