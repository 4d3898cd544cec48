// Package deploy holds strata's deployment files, checked by its tests:
// the container build (Dockerfile), the Helm chart (helm/strata) and the
// systemd unit for a single host (systemd/). README.md explains them.
//
// Decisions:
//   - terraform comes from HashiCorp's releases through hc-install, the
//     installer strata itself uses, which verifies the checksums file
//     against HashiCorp's signing key and the archive against the
//     checksums: nothing to keep in step by hand but the version.
//   - The image runs as user 10001 with a read-only root in the chart;
//     mirrors and workspaces are scratch space (emptyDir): everything that
//     matters is in SQS, DynamoDB and S3.
//   - Secrets are files (a Secret volume, systemd credentials), never
//     environment variables or flags.
//   - The terraform sandbox (bubblewrap) needs unprivileged user
//     namespaces and a new /proc: the chart gives the pod its own user
//     namespace, an unmasked /proc and no seccomp or AppArmor profile that
//     refuses unshare and mount; the unit leaves out the settings that
//     would make the kernel refuse them.
//   - The tests render the chart with helm built from the Go module proxy
//     at a pinned version, cached outside the repository, and check the
//     flags the chart and the unit pass against `strata server --help`.
package deploy
