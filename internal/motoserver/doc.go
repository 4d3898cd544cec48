// Package motoserver runs moto_server (Python moto's AWS emulator; strata
// uses its S3, DynamoDB and SQS) for tests: on a free loopback port, in
// its own process group so that stopping it leaves no stray process, with
// the AWS SDK's environment pointed at it and away from real AWS (dummy
// credentials, no instance metadata service, no shared config files).
//
// The SDK reaches moto through a proxy in the test process that passes one
// request at a time (proxy.go): moto serves requests on threads without
// making atomic what AWS makes atomic. Two racing DynamoDB PutItem calls
// conditional on attribute_not_exists both succeed (seen here within a few
// dozen runs of the lock race test); S3's conditional PutObject checks
// If-Match and then writes, so two writers over one version both succeed;
// two SQS receives can deliver one message twice. AWS applies each of
// these atomically, so the proxy restores that; without it, tests of races
// would test moto's threading, not strata. SQS long polls are turned into
// short polls inside the proxy, so a waiting consumer never holds the
// others up. Stop closes the proxy too, so the endpoint then refuses
// connections as a dead server does.
//
// A test package shares one server: its TestMain calls Main, its tests call
// Shared. A test that needs to stop or restart a server mid-run starts a
// private one with Start. Without moto_server on PATH these helpers skip
// the test, except under CI=true where they fail it: CI must not go green
// by testing nothing.
//
// It is test support only: no production code may import it.
package motoserver
