package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herolink/internal/emis"
)

const maxSessionRangeDays = 62

// writeMethods change the appointment book; a "timeout after write" applies them, then stalls.
var writeMethods = map[string]bool{emis.MethodBookAppointment: true, emis.MethodCancelAppointment: true,
	emis.MethodSetAppointmentStatus: true, emis.MethodSetSlotType: true}

// servePartnerAPI answers POST /partnerapi/v1/{method}.
func (s *Server) servePartnerAPI(rw http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if _, known := methodIndex[method]; !known {
		http.Error(rw, "unknown Partner API method "+strconv.Quote(method), http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(rw, "parameters must be form-encoded: "+err.Error(), http.StatusBadRequest)
		return
	}
	p := r.Form
	w := s.world
	org := w.orgForCall(method, p)
	w.count(method, org)

	cdb := 0
	if org != nil {
		cdb = org.CDB
	}
	fc, faulty := w.faultFor(cdb)
	kind := faultNone
	if faulty {
		var delay time.Duration
		kind, delay = fc.decide(w.now())
		if kind == faultNone && method == emis.MethodGetSlotsForSession && fc.failsSlotsOf(p.Get("appointmentSessionId")) {
			kind = faultError
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if kind != faultNone {
			w.stats.faults[kind].Add(1)
		}
		switch kind {
		case faultOutage:
			http.Error(rw, "EMIS is unavailable (outage)", http.StatusServiceUnavailable)
			return
		case faultError:
			http.Error(rw, "EMIS server error (injected)", http.StatusServiceUnavailable)
			return
		case faultReset:
			resetConnection(rw)
			return
		case faultTimeout:
			stallThenFail(rw, r, fc.stall())
			return
		}
	}
	ans := w.dispatch(method, p)
	if kind == faultTimeoutAfterWrite && writeMethods[method] {
		stallThenFail(rw, r, fc.stall()) // applied (if a write), but the caller never hears
		return
	}
	writeEnvelope(rw, method, ans)
}

// orgForCall finds which organisation a call concerns, for fault targeting and statistics.
func (w *World) orgForCall(method string, p url.Values) *Org {
	if method == emis.MethodInitializeWithID {
		if cdb, err := strconv.Atoi(p.Get("cdb")); err == nil {
			if o, err := w.Org(cdb); err == nil {
				return o
			}
		}
		return nil
	}
	return w.orgOfToken(p.Get("loginId"), p.Get("sessionId"))
}

func stallThenFail(rw http.ResponseWriter, r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		http.Error(rw, "EMIS did not answer in time (injected)", http.StatusGatewayTimeout)
	case <-r.Context().Done():
	}
}

func resetConnection(rw http.ResponseWriter) {
	hj, ok := rw.(http.Hijacker)
	if !ok {
		http.Error(rw, "connection reset (injected)", http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func writeEnvelope(rw http.ResponseWriter, method string, a answer) {
	bp := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(bp)
	b, err := appendEnvelope((*bp)[:0], method, a)
	if err != nil {
		// Only a result encoding/xml cannot encode gets here: say so the way EMIS would.
		b, _ = appendEnvelope((*bp)[:0], method, answer{outcome: emis.OutcomeTechnicalError, text: "technical error: " + err.Error()})
	}
	*bp = b
	rw.Header().Set("Content-Type", "application/xml; charset=utf-8")
	// With its length known the answer is one write, not chunks and a closing chunk.
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = rw.Write(b)
}

// dispatch runs one Partner API method.
func (w *World) dispatch(method string, p url.Values) answer {
	switch method {
	case emis.MethodInitializeWithID:
		return w.initializeWithID(p.Get("cdb"), p.Get("supplierId"))
	case emis.MethodLogon:
		return w.logon(p.Get("loginId"), p.Get("username"), p.Get("password"))
	case emis.MethodLogout:
		return w.logout(p.Get("sessionId"))
	}
	sess, a := w.session(p.Get("sessionId"))
	if sess == nil {
		return a
	}
	o := sess.org
	o.mu.Lock()
	user, a := sess.authoriseLocked(method)
	o.mu.Unlock()
	if user == nil {
		return a
	}
	switch method {
	case emis.MethodGetOrganisation:
		return ok(o.wireOrganisation())
	case emis.MethodGetCurrentUser:
		return ok(emis.CurrentUser{DBID: user.DBID, Username: user.Username, Title: user.Title,
			FirstNames: user.FirstName, LastName: user.LastName, JobCategory: user.JobCategory,
			RoleProfile: user.RBACRole, Activities: Roles[user.RBACRole],
			ContractStart: user.ContractStart, ContractEnd: user.ContractEnd})
	case emis.MethodGetAppointmentConfiguration:
		return ok(o.wireConfiguration())
	case emis.MethodGetAppointmentSessions:
		return o.appointmentSessions(p)
	case emis.MethodGetSlotsForSession:
		id, err := strconv.ParseInt(p.Get("appointmentSessionId"), 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "appointmentSessionId %q is not a number", p.Get("appointmentSessionId"))
		}
		return o.slotsForSession(id)
	case emis.MethodBookAppointment:
		slot, err1 := strconv.ParseInt(p.Get("slotId"), 10, 64)
		pat, err2 := strconv.ParseInt(p.Get("patientId"), 10, 64)
		if err1 != nil || err2 != nil {
			return fail(emis.OutcomeTechnicalError, "slotId and patientId must be numbers")
		}
		return o.book(BookInput{SlotID: slot, PatientID: pat, Reason: p.Get("reason"), Notes: p.Get("notes"), BookedBy: p.Get("bookedBy")})
	case emis.MethodCancelAppointment:
		slot, err := strconv.ParseInt(p.Get("slotId"), 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "slotId must be a number")
		}
		return o.cancel(slot)
	case emis.MethodSetAppointmentStatus:
		slot, err := strconv.ParseInt(p.Get("slotId"), 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "slotId must be a number")
		}
		return o.setAppointmentStatus(slot, p.Get("status"))
	case emis.MethodSetSlotType:
		slot, err1 := strconv.ParseInt(p.Get("slotId"), 10, 64)
		typ, err2 := strconv.Atoi(p.Get("slotTypeId"))
		if err1 != nil || err2 != nil {
			return fail(emis.OutcomeTechnicalError, "slotId and slotTypeId must be numbers")
		}
		return o.setSlotType(slot, typ, p.Get("notes"))
	case emis.MethodGetMatchedPatient:
		return o.matchPatients(p.Get("filter"))
	case emis.MethodGetPatientAppointments:
		pid, err := strconv.ParseInt(p.Get("patientId"), 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "patientId must be a number")
		}
		from, to, a := parseRange(p)
		if a.outcome != 0 {
			return a
		}
		return o.patientAppointments(pid, from, to)
	case emis.MethodGetPatientDemographics:
		pid, err := strconv.ParseInt(p.Get("patientId"), 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "patientId must be a number")
		}
		return o.patientDemographics(pid)
	}
	return fail(emis.OutcomeTechnicalError, "method %s is not implemented", method)
}

func parseRange(p url.Values) (emis.Date, emis.Date, answer) {
	from, err := emis.ParseDate(p.Get("startDate"))
	if err != nil {
		return emis.Date{}, emis.Date{}, fail(emis.OutcomeTechnicalError, "startDate: %v", err)
	}
	to, err := emis.ParseDate(p.Get("endDate"))
	if err != nil {
		return emis.Date{}, emis.Date{}, fail(emis.OutcomeTechnicalError, "endDate: %v", err)
	}
	if to.Before(from) {
		return emis.Date{}, emis.Date{}, fail(emis.OutcomeTechnicalError, "endDate %s is before startDate %s", to, from)
	}
	if to.DaysSince(from) >= maxSessionRangeDays {
		return emis.Date{}, emis.Date{}, fail(emis.OutcomeTechnicalError, "date range longer than %d days", maxSessionRangeDays)
	}
	return from, to, answer{}
}

func (o *Org) appointmentSessions(p url.Values) answer {
	from, to, a := parseRange(p)
	if a.outcome != 0 {
		return a
	}
	var site int64
	if v := strings.TrimSpace(p.Get("siteId")); v != "" && v != "0" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fail(emis.OutcomeTechnicalError, "siteId %q is not a number", v)
		}
		site = id
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if site != 0 && o.siteLocked(site) == nil {
		return fail(emis.OutcomeNotFound, "site %d not found", site)
	}
	// Sized for every holder working both halves of every day: growing the list as it filled
	// was a fifth of the answer's garbage.
	out := emis.SessionList{Sessions: make([]emis.Session, 0, (to.DaysSince(from)+1)*2*len(o.Holders))}
	o.sessionsLocked(from, to, site, func(d emis.Date, s *DiarySession) {
		out.Sessions = append(out.Sessions, o.wireSessionLocked(d, s))
	})
	if len(out.Sessions) == 0 {
		return fail(emis.OutcomeNothingToReturn, "no sessions between %s and %s", from, to)
	}
	return ok(out)
}

func (o *Org) slotsForSession(id int64) answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	d, s, found := o.findSessionLocked(id)
	if !found {
		return fail(emis.OutcomeNotFound, "appointment session %d not found", id)
	}
	return ok(emis.SlotList{Slots: o.wireSlotsLocked(d, s)})
}

func (o *Org) wireOrganisation() emis.Organisation {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := emis.Organisation{DBID: int64(o.CDB), Name: o.Name, ODSCode: o.ODS, CDB: o.CDB}
	for _, s := range o.Sites {
		out.Sites = append(out.Sites, emis.Site{DBID: s.ID, Name: s.Name, Postcode: s.Postcode})
	}
	for _, u := range o.Users {
		out.Users = append(out.Users, emis.OrgUser{DBID: u.DBID, Title: u.Title, FirstNames: u.FirstName,
			LastName: u.LastName, JobCategory: u.JobCategory, SessionHolder: u.SessionHolder})
	}
	return out
}

func (o *Org) wireConfiguration() emis.AppointmentConfiguration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out emis.AppointmentConfiguration
	for _, t := range o.SlotTypes {
		out.SlotTypes = append(out.SlotTypes, emis.SlotType{TypeID: t.ID, Description: t.Name, Bookable: t.Bookable, Colour: t.Colour})
	}
	for _, s := range o.Sites {
		out.Sites = append(out.Sites, emis.Site{DBID: s.ID, Name: s.Name, Postcode: s.Postcode})
	}
	for _, h := range o.Holders {
		out.Holders = append(out.Holders, emis.Holder{DBID: h.ID, Title: h.Title, FirstNames: h.FirstName,
			LastName: h.LastName, JobCategory: h.JobCategory})
	}
	return out
}
