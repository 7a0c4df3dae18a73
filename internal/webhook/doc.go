// Package webhook tells partners what happened to their appointments, following Standard
// Webhooks 1.0: endpoints (with secrets sealed by the vault and rotated with an overlap), the
// signer, the fan-out from the outbox tables (appointment_events, health_events) to one
// delivery per endpoint, the River job that delivers each one in order per appointment with
// backoff for three days, and the sender that refuses to post to private addresses or follow
// redirects.
package webhook
