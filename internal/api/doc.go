// Package api is herolink's public partner REST API under /v1 and its OpenAPI 3.1 document at
// /openapi.json.
//
// Every request passes one gate (auth.go): the x-api-key and x-practice-group-id headers, a
// working key of that practice group, a per-key rate limit (ratelimit.go) and the scope the
// route needs. POSTs may carry an Idempotency-Key (idempotency.go). Bodies are JSON, at most
// 64 KiB, decoded strictly (request.go). Lists are {data, count, next_cursor}
// (pagination.go). Every error, including unknown routes and wrong methods, is RFC 9457
// application/problem+json with a stable code (problem.go). The handlers (catalogue.go,
// slots.go, appointments.go, patients.go) only translate between HTTP and the booking core,
// which owns every rule and answers refusals as *booking.Error. API keys themselves are
// managed by the apikey subpackage, which the admin pages use too.
package api
