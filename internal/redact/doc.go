// Package redact masks the secret values strata holds in every text that
// leaves it: merge-request notes, issues, commit statuses, log lines, run
// records and plan artifacts. It is defence in depth, not the boundary:
// code that can read a secret can also encode it past any redactor (the
// sandbox of package planner/tf is what keeps secrets out of its reach).
// It knows nothing of forges, plans or logs beyond the slog handler it
// wraps.
//
// Decisions:
//   - Which values: those given explicitly (forge tokens, webhook secrets,
//     the notify webhook's URL) when at least 4 characters long, and the
//     values of environment variables whose names look secret (see
//     SecretName) when at least 8 characters long; shorter values would
//     mask ordinary words ("true", "testing") all over the texts. Each is
//     matched as it is and as JSON, Terraform and URL encodings write it.
//   - Split values: Terraform wraps long strings and diagnostics, and JSON
//     writes line breaks as \n. Matching runs on a skeleton of the text
//     without whitespace, line breaks (raw or escaped) and the gutter a
//     wrapped line starts with (+ - ~ > | * # and box-drawing characters,
//     followed by whitespace),
//     and the secrets are reduced the same way, so a value split over
//     several lines, indented or boxed, is still found; the whole span it
//     covers, line breaks included, becomes Mask.
//   - Speed: one pass over the text through an Aho-Corasick automaton with
//     a full transition table (256 entries per state), whatever the number
//     of secrets; a text without secrets is returned as it is, uncopied.
//     BenchmarkRedactPlan measures a 10,000-resource plan.
package redact
