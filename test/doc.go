// Package test holds strata's end-to-end tests: they build the strata
// binary once (TestMain) and drive it as a user or CI job would, against
// real local files, git repositories, Terraform and moto for S3 and
// DynamoDB, and, for the web page, a headless Chromium (chromedp). It has
// no non-test code and nothing may import it.
package test
