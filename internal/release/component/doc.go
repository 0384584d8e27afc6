// Package component holds the tests of the CI/CD component
// (templates/siblings): its before_script, as gitlab-ci-local expands it the
// way GitLab does, run by dash and by busybox sh against the fake GitLab.
package component
