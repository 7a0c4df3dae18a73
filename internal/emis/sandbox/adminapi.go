package sandbox

import (
	"net/http"
	"strconv"
	"time"

	"herolink/internal/emis"
)

// OrgView is an organisation as the admin API lists it.
type OrgView struct {
	ODS  string `json:"ods"`
	CDB  int    `json:"cdb"`
	Name string `json:"name"`
}

func (o *Org) view() OrgView { return OrgView{ODS: o.ODS, CDB: o.CDB, Name: o.Name} }

// handle adapts a handler returning (status, body, error) to http.HandlerFunc.
func handle(fn func(*http.Request) (int, any, error)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		status, body, err := fn(r)
		if err != nil {
			writeError(rw, err)
			return
		}
		if status == http.StatusNoContent {
			rw.WriteHeader(status)
			return
		}
		writeJSON(rw, status, adminView(body))
	}
}

// orgHandle resolves {cdb} first.
func (s *Server) orgHandle(fn func(*Org, *http.Request) (int, any, error)) http.HandlerFunc {
	return handle(func(r *http.Request) (int, any, error) {
		o, err := s.orgOf(r)
		if err != nil {
			return 0, nil, err
		}
		return fn(o, r)
	})
}

func (s *Server) routeAdmin() {
	m, w := s.mux, s.world
	const org = "/sandbox/v1/organisations/{cdb}"

	m.HandleFunc("GET /sandbox/v1/organisations", handle(func(r *http.Request) (int, any, error) {
		out := []OrgView{}
		for _, o := range w.Orgs() {
			out = append(out, o.view())
		}
		return http.StatusOK, out, nil
	}))
	m.HandleFunc("POST /sandbox/v1/organisations", handle(func(r *http.Request) (int, any, error) {
		var in OrgInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		o, err := w.CreateOrg(in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, o.view(), nil
	}))
	m.HandleFunc("GET "+org, s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusOK, o.view(), nil
	}))
	m.HandleFunc("GET /sandbox/v1/directory/{ods}", handle(func(r *http.Request) (int, any, error) {
		o, err := w.OrgByODS(r.PathValue("ods"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, o.view(), nil
	}))

	// Organisation Configuration -> Users.
	m.HandleFunc("GET "+org+"/users", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		out := o.SearchUsers(r.URL.Query().Get("search"))
		if out == nil {
			out = []User{}
		}
		return http.StatusOK, out, nil
	}))
	m.HandleFunc("POST "+org+"/users", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in UserInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		u, err := o.CreateUser(in)
		return http.StatusCreated, u, err
	}))
	m.HandleFunc("GET "+org+"/users/{username}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		u, err := o.GetUser(r.PathValue("username"))
		return http.StatusOK, u, err
	}))
	m.HandleFunc("PATCH "+org+"/users/{username}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in UserInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		u, err := o.EditUser(r.PathValue("username"), in)
		return http.StatusOK, u, err
	}))

	// System Tools -> EMAS Manager.
	m.HandleFunc("GET "+org+"/emas/products", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusOK, o.ListProducts(), nil
	}))
	m.HandleFunc("GET "+org+"/emas/products/{key}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		p, err := o.Product(r.PathValue("key"))
		return http.StatusOK, p, err
	}))
	m.HandleFunc("POST "+org+"/emas/products/{key}/activate", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		if err := o.Activate(r.PathValue("key")); err != nil {
			return 0, nil, err
		}
		p, err := o.Product(r.PathValue("key"))
		return http.StatusOK, p, err
	}))
	m.HandleFunc("POST "+org+"/emas/products/{key}/deactivate", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		if err := o.Deactivate(r.PathValue("key")); err != nil {
			return 0, nil, err
		}
		p, err := o.Product(r.PathValue("key"))
		return http.StatusOK, p, err
	}))
	m.HandleFunc("PUT "+org+"/emas/products/{key}/users/{username}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in struct {
			APIPassword *string `json:"api_password"`
		}
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		if in.APIPassword == nil {
			return 0, nil, invalid("api_password is required")
		}
		if err := o.SetAPIPassword(r.PathValue("key"), r.PathValue("username"), *in.APIPassword); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	}))
	m.HandleFunc("DELETE "+org+"/emas/products/{key}/users/{username}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, o.ClearAPIPassword(r.PathValue("key"), r.PathValue("username"))
	}))
	m.HandleFunc("PUT "+org+"/emas/products/{key}/login-access/{username}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in struct {
			AutoLogin  *bool `json:"auto_login"`
			AllowLogin *bool `json:"allow_login"`
		}
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		if in.AutoLogin == nil || in.AllowLogin == nil {
			return 0, nil, invalid("auto_login and allow_login are both required")
		}
		if err := o.SetLoginAccess(r.PathValue("key"), r.PathValue("username"), *in.AutoLogin, *in.AllowLogin); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	}))

	// Appointments -> Appts config -> Slot types; sites; session holders.
	m.HandleFunc("GET "+org+"/slot-types", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusOK, o.ListSlotTypes(), nil
	}))
	m.HandleFunc("POST "+org+"/slot-types", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in SlotTypeInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		t, err := o.AddSlotType(in)
		return http.StatusCreated, t, err
	}))
	m.HandleFunc("PATCH "+org+"/slot-types/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			return 0, nil, invalid("slot type id %q is not a number", r.PathValue("id"))
		}
		var in SlotTypeInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		t, err := o.EditSlotType(id, in)
		return http.StatusOK, t, err
	}))
	m.HandleFunc("DELETE "+org+"/slot-types/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			return 0, nil, invalid("slot type id %q is not a number", r.PathValue("id"))
		}
		return http.StatusNoContent, nil, o.DeleteSlotType(id)
	}))
	m.HandleFunc("GET "+org+"/sites", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusOK, o.ListSites(), nil
	}))
	m.HandleFunc("POST "+org+"/sites", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in struct {
			Name     string `json:"name"`
			Postcode string `json:"postcode"`
		}
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		site, err := o.AddSite(in.Name, in.Postcode)
		return http.StatusCreated, site, err
	}))
	m.HandleFunc("GET "+org+"/session-holders", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		return http.StatusOK, o.ListHolders(), nil
	}))
	m.HandleFunc("POST "+org+"/session-holders", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in HolderInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		h, err := o.AddHolder(in)
		return http.StatusCreated, h, err
	}))

	// The appointment book.
	m.HandleFunc("GET "+org+"/sessions", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		q := r.URL.Query()
		from, to := w.Today(), w.Today().AddDays(13)
		var err error
		if v := q.Get("from"); v != "" {
			if from, err = emis.ParseDate(v); err != nil {
				return 0, nil, invalid("from: %v", err)
			}
		}
		if v := q.Get("to"); v != "" {
			if to, err = emis.ParseDate(v); err != nil {
				return 0, nil, invalid("to: %v", err)
			}
		}
		out, err := o.ListSessions(from, to, truthy(q.Get("slots")))
		return http.StatusOK, out, err
	}))
	m.HandleFunc("POST "+org+"/sessions", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in SessionInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		v, err := o.AddSession(in)
		return http.StatusCreated, v, err
	}))
	m.HandleFunc("GET "+org+"/sessions/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		v, err := o.GetSession(id)
		return http.StatusOK, v, err
	}))
	m.HandleFunc("PATCH "+org+"/sessions/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		var in struct {
			StartTime string `json:"start_time"`
			SiteID    int64  `json:"site_id"`
		}
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		v, err := o.MoveSession(id, in.StartTime, in.SiteID)
		return http.StatusOK, v, err
	}))
	m.HandleFunc("DELETE "+org+"/sessions/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, o.DeleteSession(id, truthy(r.URL.Query().Get("force")))
	}))
	m.HandleFunc("GET "+org+"/free-slots", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		q := r.URL.Query()
		from, err := time.Parse(time.RFC3339, q.Get("from"))
		if err != nil {
			return 0, nil, invalid("from must be an RFC 3339 instant: %v", err)
		}
		to, err := time.Parse(time.RFC3339, q.Get("to"))
		if err != nil {
			return 0, nil, invalid("to must be an RFC 3339 instant: %v", err)
		}
		ids, err := o.FreeSlots(from, to)
		return http.StatusOK, ids, err
	}))
	m.HandleFunc("GET "+org+"/slots/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		v, err := o.GetSlot(id)
		return http.StatusOK, v, err
	}))
	m.HandleFunc("PATCH "+org+"/slots/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		var in SlotEdit
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		v, err := o.EditSlot(id, in)
		return http.StatusOK, v, err
	}))
	m.HandleFunc("POST "+org+"/slots/{id}/book", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		var in BookInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		in.SlotID = id
		v, err := o.ReceptionBook(in)
		return http.StatusOK, v, err
	}))
	m.HandleFunc("POST "+org+"/slots/{id}/cancel", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		if err := o.ReceptionCancel(id); err != nil {
			return 0, nil, err
		}
		v, err := o.GetSlot(id)
		return http.StatusOK, v, err
	}))
	// Reception moving an appointment to another slot: {"to_slot_id": n}.
	m.HandleFunc("POST "+org+"/slots/{id}/move", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		var in struct {
			ToSlotID int64 `json:"to_slot_id"`
		}
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		v, err := o.MoveAppointment(id, in.ToSlotID)
		return http.StatusOK, v, err
	}))

	// The patient register.
	m.HandleFunc("GET "+org+"/patients", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		limit := 100
		if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 && v <= 1000 {
			limit = v
		}
		out := o.SearchPatients(r.URL.Query().Get("search"), limit)
		if out == nil {
			out = []Patient{}
		}
		return http.StatusOK, out, nil
	}))
	m.HandleFunc("POST "+org+"/patients", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		var in PatientInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		p, err := o.RegisterPatient(in)
		return http.StatusCreated, p, err
	}))
	m.HandleFunc("GET "+org+"/patients/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		p, err := o.GetPatient(id)
		return http.StatusOK, p, err
	}))
	m.HandleFunc("PATCH "+org+"/patients/{id}", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		var in PatientInput
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		p, err := o.EditPatient(id, in)
		return http.StatusOK, p, err
	}))
	// A patient leaving the practice (deduction): the record stays, no longer bookable.
	m.HandleFunc("POST "+org+"/patients/{id}/deduct", s.orgHandle(func(o *Org, r *http.Request) (int, any, error) {
		id, err := pathInt64(r, "id")
		if err != nil {
			return 0, nil, err
		}
		p, err := o.DeductPatient(id)
		return http.StatusOK, p, err
	}))

	// Faults and statistics.
	m.HandleFunc("GET /sandbox/v1/faults", handle(func(r *http.Request) (int, any, error) {
		return http.StatusOK, w.Faults(), nil
	}))
	m.HandleFunc("PUT /sandbox/v1/faults", handle(func(r *http.Request) (int, any, error) {
		var in Faults
		if err := readJSON(r, &in); err != nil {
			return 0, nil, err
		}
		if err := w.SetFaults(in); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, w.Faults(), nil
	}))
	m.HandleFunc("GET /sandbox/v1/stats", handle(func(r *http.Request) (int, any, error) {
		cdb := 0
		if v := r.URL.Query().Get("cdb"); v != "" {
			var err error
			if cdb, err = strconv.Atoi(v); err != nil {
				return 0, nil, invalid("cdb %q is not a number", v)
			}
		}
		st, err := w.Stats(cdb)
		return http.StatusOK, st, err
	}))
	m.HandleFunc("DELETE /sandbox/v1/stats", handle(func(r *http.Request) (int, any, error) {
		w.ResetStats()
		return http.StatusNoContent, nil, nil
	}))
}
