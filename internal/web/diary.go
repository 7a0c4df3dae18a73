package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// The diary week: what herolink's synced copy of a practice's EMIS diary holds for one week,
// session by session, with herolink's holds, bookings and placeholders marked, so staff see
// what partners are offered. It reads the store only, never EMIS.

type diaryView struct {
	base
	Practice   store.Practice
	WeekOf     string // "7 December 2026"
	Week       string // the Monday, yyyy-mm-dd
	Prev, Next string
	PrevOf     string // "23 November 2026"
	NextOf     string
	ThisWeek   string
	Days       []diaryDay
	Errors     []fieldError
	SyncedAgo  string
	Synced     bool
}

type diaryDay struct {
	Heading  string // "Monday 7 December"
	Sessions []diarySession
}

type diarySession struct {
	ID       int64
	Name     string
	Time     string // "08:00 to 11:00"
	Holders  string
	Site     string
	Counts   string // "12 free, 3 booked, 1 held"
	Length   int    // minutes per slot
	Slots    []diarySlot
	Herolink []diarySlot // the slots with herolink's own appointment, shown without opening the list
	NoSlots  bool
}

type diarySlot struct {
	Time     string
	Type     string
	Label    string // what the slot is, in words
	Tag      string // the NHS tag colour
	Herolink bool   // herolink's own appointment is on it
}

// mondayOf is the Monday of the week holding d.
func mondayOf(d emis.Date) emis.Date { return d.AddDays(-((int(d.Weekday()) + 6) % 7)) }

func (s *server) diaryPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	now := time.Now()
	week := mondayOf(emis.Today(now))
	v := diaryView{base: newBase("Diary", &u), Practice: p, ThisWeek: week.String()}
	status := http.StatusOK
	if raw := strings.TrimSpace(r.URL.Query().Get("week")); raw != "" {
		d, err := emis.ParseDate(raw)
		if err != nil {
			v.Errors = []fieldError{{Field: "week-links", Message: "The week in the address is not a date: choose a week with the links below."}}
			status = http.StatusBadRequest
		} else {
			week = mondayOf(d)
		}
	}
	v.Week, v.Prev, v.Next = week.String(), week.AddDays(-7).String(), week.AddDays(7).String()
	monday := week.At(12 * 60)
	v.WeekOf = monday.Format("2 January 2006")
	v.PrevOf, v.NextOf = week.AddDays(-7).At(12*60).Format("2 January 2006"), week.AddDays(7).At(12*60).Format("2 January 2006")
	v.Title = "Diary, week of " + v.WeekOf

	ctx := r.Context()
	sessions, err := s.cfg.Store.DiaryWeek(ctx, p.ID, week.String(), week.AddDays(6).String(), now)
	if err != nil {
		s.serverError(w, r, &u, "read the diary week", err)
		return
	}
	holders, err := s.cfg.Store.EMISHolders(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list session holders", err)
		return
	}
	sites, err := s.cfg.Store.EMISSites(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list sites", err)
		return
	}
	types, err := s.cfg.Store.EMISSlotTypes(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list slot types", err)
		return
	}
	sync, err := s.cfg.Store.SyncStatus(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "read sync status", err)
		return
	}
	v.Synced = sync.FirstSyncDone
	if sync.FirstSyncDone {
		v.SyncedAgo = ago(sync.LastSuccessAt)
	}
	holderName := map[int64]string{}
	for _, h := range holders {
		holderName[h.EMISID] = h.DisplayName
	}
	siteName := map[int64]string{}
	for _, site := range sites {
		siteName[site.EMISID] = site.Name
	}
	typeName := map[int]string{}
	for _, t := range types {
		typeName[t.EMISID] = t.Name
	}

	byDate := map[string]*diaryDay{}
	for i := 0; i < 7; i++ {
		d := week.AddDays(i)
		v.Days = append(v.Days, diaryDay{Heading: d.At(12 * 60).Format("Monday 2 January")})
	}
	for i := range v.Days {
		byDate[week.AddDays(i).String()] = &v.Days[i]
	}
	for _, se := range sessions {
		day := byDate[se.Date]
		if day == nil {
			continue
		}
		ds := diarySession{ID: se.ID, Name: se.Name, Site: nameOr(siteName, se.SiteID, "site"),
			Time: clock(se.StartAt) + " to " + clock(se.EndAt), NoSlots: len(se.Slots) == 0, Length: se.SlotLength}
		var names []string
		for _, h := range se.HolderIDs {
			names = append(names, nameOr(holderName, h, "session holder"))
		}
		ds.Holders = strings.Join(names, ", ")
		var free, booked, held int
		for _, sl := range se.Slots {
			row := diarySlot{Time: clock(sl.StartAt), Type: typeName[sl.TypeID]}
			if row.Type == "" {
				row.Type = fmt.Sprintf("Slot type %d", sl.TypeID)
			}
			row.Label, row.Tag, row.Herolink = slotWords(sl)
			switch {
			case sl.Herolink == "reserved" || sl.Herolink == "confirming":
				held++
			case sl.Herolink != "" || sl.Status == "Booked":
				booked++
			case sl.Status == "Available":
				free++
			}
			ds.Slots = append(ds.Slots, row)
			if row.Herolink {
				ds.Herolink = append(ds.Herolink, row)
			}
		}
		ds.Counts = fmt.Sprintf("%d free, %d booked, %d held", free, booked, held)
		day.Sessions = append(day.Sessions, ds)
	}
	s.render(w, r, status, "diary", "", v)
}

// slotWords says what a slot is: herolink's own appointment first, then EMIS's status.
func slotWords(sl store.DiaryWeekSlot) (label, tag string, herolink bool) {
	switch sl.Herolink {
	case "reserved":
		return "Held by herolink until " + clock(sl.HeldUntil), "nhsuk-tag--yellow", true
	case "confirming":
		return "herolink booking " + sl.Reference + " being written to EMIS", "nhsuk-tag--blue", true
	case "booked":
		return "herolink booking " + sl.Reference, "nhsuk-tag--blue", true
	case "placeholder":
		return "Placeholder " + sl.Reference + " (unregistered patient)", "nhsuk-tag--orange", true
	}
	switch sl.Status {
	case "Available":
		return "Free", "nhsuk-tag--green", false
	case "Booked":
		return "Booked in EMIS", "nhsuk-tag--grey", false
	}
	return sl.Status + " in EMIS", "nhsuk-tag--grey", false
}

func nameOr(names map[int64]string, id int64, what string) string {
	if n := names[id]; n != "" {
		return n
	}
	return fmt.Sprintf("%s %d (not read from EMIS)", what, id)
}
