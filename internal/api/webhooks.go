package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/webhook"
)

// Webhooks is the partner's side of webhook endpoints; *webhook.Service satisfies it.
type Webhooks interface {
	Create(ctx context.Context, group, owner, actor string, in webhook.Input) (webhook.Endpoint, error)
	List(ctx context.Context, group, owner string) ([]webhook.Endpoint, error)
	Get(ctx context.Context, group, owner, id string) (webhook.Endpoint, error)
	Delete(ctx context.Context, group, owner, id string) error
	Rotate(ctx context.Context, group, owner, id string) (webhook.Endpoint, error)
}

var _ Webhooks = (*webhook.Service)(nil)

// webhookRoutes are the /v1/webhooks operations. Their POSTs answer a signing secret, which
// herolink keeps only sealed: they do not keep answers for Idempotency-Key (secret), so the
// secret is never stored in the clear.
func (s *server) webhookRoutes(route func(string, map[string]op)) {
	route("/v1/webhooks", map[string]op{
		http.MethodGet:  {scope: apikey.ScopeBooking, h: s.listWebhooks},
		http.MethodPost: {scope: apikey.ScopeBooking, h: s.createWebhook, secret: true},
	})
	route("/v1/webhooks/{id}", map[string]op{
		http.MethodGet:    {scope: apikey.ScopeBooking, h: s.getWebhook},
		http.MethodDelete: {scope: apikey.ScopeBooking, h: s.deleteWebhook},
	})
	route("/v1/webhooks/{id}/rotate", map[string]op{
		http.MethodPost: {scope: apikey.ScopeBooking, h: s.rotateWebhook, secret: true},
	})
}

type webhookBody struct {
	URL         *string  `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description *string  `json:"description"`
}

// webhookJSON is an endpoint as its partner sees it. secret is present only in the answer
// that made it.
type webhookJSON struct {
	ID                      string   `json:"id"`
	URL                     string   `json:"url"`
	EventTypes              []string `json:"event_types"`
	Description             string   `json:"description"`
	Status                  string   `json:"status"`
	DisabledReason          *string  `json:"disabled_reason"`
	DisabledAt              *string  `json:"disabled_at"`
	CreatedAt               string   `json:"created_at"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
	Secret                  string   `json:"secret,omitempty"`
}

func toWebhookJSON(e webhook.Endpoint, now time.Time) webhookJSON {
	out := webhookJSON{ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, Description: e.Description, Status: e.State,
		DisabledReason: str(e.DisabledReason), DisabledAt: formatTime(e.DisabledAt), CreatedAt: mustTime(e.CreatedAt), Secret: e.Secret}
	if out.EventTypes == nil {
		out.EventTypes = []string{}
	}
	if e.PreviousSecretUntil.After(now) {
		out.PreviousSecretExpiresAt = formatTime(e.PreviousSecretUntil)
	}
	return out
}

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var b webhookBody
	if p := decodeBody(c.body, &b, false); p != nil {
		return p
	}
	var fields []FieldProblem
	if b.URL == nil {
		fields = append(fields, FieldProblem{Field: "url", Code: "required", Message: "is required"})
	}
	if b.EventTypes == nil {
		fields = append(fields, FieldProblem{Field: "event_types", Code: "required", Message: "is required"})
	}
	if len(fields) > 0 {
		return invalid("The webhook is not valid: see errors.", fields...)
	}
	e, err := s.cfg.Webhooks.Create(r.Context(), c.group, c.key.Owner, "api key "+c.key.ID,
		webhook.Input{URL: *b.URL, EventTypes: b.EventTypes, Description: deref(b.Description)})
	if err != nil {
		return webhookProblem(err)
	}
	w.Header().Set("Location", "/v1/webhooks/"+e.ID)
	return writeJSON(w, http.StatusCreated, toWebhookJSON(e, s.cfg.Now()))
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	es, err := s.cfg.Webhooks.List(r.Context(), c.group, c.key.Owner)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return writeJSON(w, http.StatusOK, listOf(mapAll(es, func(e webhook.Endpoint) webhookJSON { return toWebhookJSON(e, now) }), ""))
}

func (s *server) getWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	e, err := s.cfg.Webhooks.Get(r.Context(), c.group, c.key.Owner, r.PathValue("id"))
	if err != nil {
		return webhookProblem(err)
	}
	return writeJSON(w, http.StatusOK, toWebhookJSON(e, s.cfg.Now()))
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	if err := s.cfg.Webhooks.Delete(r.Context(), c.group, c.key.Owner, r.PathValue("id")); err != nil {
		return webhookProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) rotateWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := decodeBody(c.body, &struct{}{}, true); p != nil {
		return p
	}
	e, err := s.cfg.Webhooks.Rotate(r.Context(), c.group, c.key.Owner, r.PathValue("id"))
	if err != nil {
		return webhookProblem(err)
	}
	return writeJSON(w, http.StatusOK, toWebhookJSON(e, s.cfg.Now()))
}

// webhookProblem maps the webhook service's refusals; anything else stays an error (500).
func webhookProblem(err error) error {
	var in *webhook.InputError
	switch {
	case errors.As(err, &in):
		return invalid("The webhook is not valid: "+in.Field+" "+in.Reason+".",
			FieldProblem{Field: in.Field, Code: "invalid", Message: in.Reason})
	case errors.Is(err, webhook.ErrNotFound):
		return problem(http.StatusNotFound, codeNotFound, "There is no webhook with this id.")
	}
	return err
}
