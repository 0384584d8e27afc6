// Package dist holds the test of `make dist`: the release binaries are
// static, stamped with their version and commit, listed in SHA256SUMS, and
// the same commit and version give the same bytes wherever they are built.
package dist
