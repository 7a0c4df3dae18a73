package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"herolink/internal/store"
	"herolink/internal/webhook"
)

// The webhooks page: the endpoints partners registered in the practice's group, whether they
// work, every recent attempt (status, latency, the start of the answer) and "Resend". An
// endpoint disabled after failing for the whole retry period is shown first with why; the
// disabling is also in the practice's audit trail. Staff never see a signing secret.

const webhookAttemptsShown = 20

type webhookEndpointView struct {
	store.WebhookEndpoint
	Where    string // the URL without its query: a token there is the partner's
	Attempts []store.WebhookAttempt
}

type webhooksView struct {
	base
	Practice  store.Practice
	Endpoints []webhookEndpointView
	Done      string
}

func webhooksPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/webhooks"
}

// where shows an endpoint's URL without query or fragment.
func where(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func (s *server) webhooksPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	ctx := r.Context()
	eps, err := s.cfg.Store.WebhookEndpointsInGroup(ctx, p.PracticeGroupID)
	if err != nil {
		s.serverError(w, r, &u, "list webhooks", err)
		return
	}
	v := webhooksView{base: newBase("Webhooks", &u), Practice: p}
	var disabled, active []webhookEndpointView
	for _, e := range eps {
		ev := webhookEndpointView{WebhookEndpoint: e, Where: where(e.URL)}
		if ev.Attempts, err = s.cfg.Store.WebhookAttemptsOf(ctx, e.ID, webhookAttemptsShown); err != nil {
			s.serverError(w, r, &u, "list webhook attempts", err)
			return
		}
		if e.State == store.WebhookDisabled {
			disabled = append(disabled, ev)
		} else {
			active = append(active, ev)
		}
	}
	v.Endpoints = append(disabled, active...)
	if r.URL.Query().Get("done") == "resent" {
		v.Done = "The delivery is sent again."
	}
	s.render(w, r, http.StatusOK, "webhooks", "", v)
}

// formResendWebhook sends one delivery again, if it belongs to an active endpoint of the
// practice's group.
func (s *server) formResendWebhook(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	notFound := func() {
		s.errorPage(w, r, &u, http.StatusNotFound, "Delivery not found",
			"This practice has no webhook delivery with this id to an endpoint that still works.")
	}
	id, err := strconv.ParseInt(r.PathValue("did"), 10, 64)
	if err != nil || s.cfg.Webhooks == nil {
		notFound()
		return
	}
	ctx := r.Context()
	d, err := s.cfg.Store.WebhookDeliveryByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "read webhook delivery", err)
		return
	}
	e, err := s.cfg.Store.WebhookEndpoint(ctx, d.EndpointID)
	if err != nil || e.PracticeGroupID != p.PracticeGroupID {
		notFound()
		return
	}
	err = s.cfg.Webhooks.Resend(ctx, id)
	if errors.Is(err, webhook.ErrNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "resend webhook", err)
		return
	}
	if err := s.cfg.Store.AppendAudit(ctx, store.AuditEntry{Actor: u.Username, Action: "webhook.resent", PracticeID: p.ID,
		Detail: "delivery " + strconv.FormatInt(id, 10) + " (" + d.EventType + ") to endpoint " + e.ID}); err != nil {
		s.log.Warn("audit webhook resend", "err", err)
	}
	s.log.Info("webhook resent", "delivery", id, "endpoint", e.ID, "user", u.Username, "practice", p.ID)
	http.Redirect(w, r, webhooksPath(p.ID)+"?done=resent", http.StatusSeeOther)
}

// Latency shows an attempt's duration in milliseconds.
func (webhooksView) Latency(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// disabledWebhooks counts the group's endpoints disabled after failing: the practice page
// flags them.
func (s *server) disabledWebhooks(ctx context.Context, p store.Practice) (int, error) {
	eps, err := s.cfg.Store.WebhookEndpointsInGroup(ctx, p.PracticeGroupID)
	n := 0
	for _, e := range eps {
		if e.State == store.WebhookDisabled {
			n++
		}
	}
	return n, err
}
