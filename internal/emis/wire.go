package emis

import "encoding/xml"

// Envelope is the answer to every Partner API call: HTTP 200 with this XML document, whatever
// the outcome. Result holds the EMIS Open shaped document of the method, or nothing.
type Envelope struct {
	XMLName xml.Name `xml:"PartnerApiResponse"`
	Method  string   `xml:"method,attr"`
	Outcome Outcome  `xml:"Outcome"`
	Error   string   `xml:"Error"`
	Result  InnerXML `xml:"Result"`
}

// InnerXML keeps the raw bytes of the Result element so that callers decode only what they need.
type InnerXML struct {
	Data []byte `xml:",innerxml"`
}

// LoginResult answers InitializeWithID.
type LoginResult struct {
	XMLName     xml.Name `xml:"Login"`
	LoginID     string   `xml:"LoginID"`
	ProductName string   `xml:"ProductName"`
	Version     string   `xml:"Version"`
}

// SessionResult answers Logon.
type SessionResult struct {
	XMLName   xml.Name `xml:"Session"`
	SessionID string   `xml:"SessionID"`
}

// Organisation answers GetOrganisation.
type Organisation struct {
	XMLName xml.Name  `xml:"Organisation"`
	DBID    int64     `xml:"DBID"`
	Name    string    `xml:"Name"`
	ODSCode string    `xml:"ODSCode"`
	CDB     int       `xml:"CDB"`
	Sites   []Site    `xml:"SiteList>Site"`
	Users   []OrgUser `xml:"UserList>User"`
}

// OrgUser is a user as GetOrganisation lists it.
type OrgUser struct {
	DBID          int64  `xml:"DBID"`
	Title         string `xml:"Title"`
	FirstNames    string `xml:"FirstNames"`
	LastName      string `xml:"LastName"`
	JobCategory   string `xml:"JobCategory"`
	SessionHolder bool   `xml:"SessionHolder"`
}

// Site is a location of the practice.
type Site struct {
	DBID     int64  `xml:"DBID"`
	Name     string `xml:"Name"`
	Postcode string `xml:"Postcode,omitempty"`
}

// CurrentUser answers GetCurrentUser.
type CurrentUser struct {
	XMLName     xml.Name `xml:"User"`
	DBID        int64    `xml:"DBID"`
	Username    string   `xml:"Username"`
	Title       string   `xml:"Title"`
	FirstNames  string   `xml:"FirstNames"`
	LastName    string   `xml:"LastName"`
	JobCategory string   `xml:"JobCategory"`
	RoleProfile string   `xml:"RoleProfile"`
	Activities  []string `xml:"ActivityList>Activity"`
	// The Role tab's contract dates, yyyy-mm-dd; ContractEnd is empty when none is set (as the
	// guide asks). EMIS refuses the logon (outcome 2) the day after the end date.
	ContractStart string `xml:"ContractStartDate,omitempty"`
	ContractEnd   string `xml:"ContractEndDate,omitempty"`
}

// AppointmentConfiguration answers GetAppointmentConfiguration.
type AppointmentConfiguration struct {
	XMLName   xml.Name   `xml:"AppointmentConfiguration"`
	SlotTypes []SlotType `xml:"SlotTypeList>SlotType"`
	Sites     []Site     `xml:"SiteList>Site"`
	Holders   []Holder   `xml:"SessionHolderList>Holder"`
}

// SlotType is a slot type as Appts config defines it.
type SlotType struct {
	TypeID      int    `xml:"TypeID"`
	Description string `xml:"Description"`
	Bookable    bool   `xml:"Bookable"`
	Colour      string `xml:"Colour"`
}

// Holder is a session holder (a clinician whose diary holds sessions).
type Holder struct {
	DBID        int64  `xml:"DBID"`
	Title       string `xml:"Title"`
	FirstNames  string `xml:"FirstNames"`
	LastName    string `xml:"LastName"`
	JobCategory string `xml:"JobCategory,omitempty"`
}

// SessionList answers GetAppointmentSessions.
type SessionList struct {
	XMLName  xml.Name  `xml:"AppointmentSessionList"`
	Sessions []Session `xml:"AppointmentSession"`
}

// Session is an appointment session: a holder at a site on a date, with per-slot-type counts.
type Session struct {
	DBID       int64              `xml:"DBID"`
	GUID       string             `xml:"GUID"`
	Name       string             `xml:"Name"`
	Date       string             `xml:"Date"`      // yyyy-mm-dd, Europe/London
	StartTime  string             `xml:"StartTime"` // HH:MM, Europe/London wall clock
	EndTime    string             `xml:"EndTime"`
	SlotLength int                `xml:"SlotLength"` // minutes
	Site       Site               `xml:"Site"`
	Holders    []Holder           `xml:"HolderList>Holder"`
	SlotTypes  []SessionSlotCount `xml:"SlotTypeList>SlotType"`
}

// SessionSlotCount is one slot type's counts within a session.
type SessionSlotCount struct {
	TypeID      int    `xml:"TypeID"`
	Description string `xml:"Description"`
	Total       int    `xml:"Total"`
	Booked      int    `xml:"Booked"`
	Blocked     int    `xml:"Blocked"`
	Embargoed   int    `xml:"Embargoed"`
	Available   int    `xml:"Available"`
}

// SlotList answers GetSlotsForSession.
type SlotList struct {
	XMLName xml.Name `xml:"SlotList"`
	Slots   []Slot   `xml:"Slot"`
}

// Slot statuses as EMIS shows them.
const (
	SlotAvailable = "Available"
	SlotBooked    = "Booked"
	SlotBlocked   = "Blocked"
	SlotEmbargoed = "Embargoed"
)

// Slot is one slot of a session.
type Slot struct {
	XMLName           xml.Name       `xml:"Slot"`
	DBID              int64          `xml:"DBID"`
	GUID              string         `xml:"GUID"`
	SessionGUID       string         `xml:"SessionGUID"`
	SessionDBID       int64          `xml:"SessionDBID"`
	Date              string         `xml:"Date"`
	StartTime         string         `xml:"StartTime"`
	SlotLength        int            `xml:"SlotLength"`
	Type              SlotTypeRef    `xml:"Type"`
	Status            string         `xml:"Status"`
	AppointmentStatus string         `xml:"AppointmentStatus,omitempty"`
	Patients          []PatientBrief `xml:"PatientList>Patient"`
	Notes             string         `xml:"Notes"`
	Reason            string         `xml:"Reason"`
	BookedBy          string         `xml:"BookedBy,omitempty"`
}

// SlotTypeRef names a slot's type.
type SlotTypeRef struct {
	TypeID      int    `xml:"TypeID"`
	Description string `xml:"Description"`
}

// PatientBrief is the patient a booked slot carries.
type PatientBrief struct {
	DBID       int64  `xml:"DBID"`
	NhsNumber  string `xml:"NhsNumber"`
	FamilyName string `xml:"FamilyName"`
	FirstNames string `xml:"FirstNames"`
}

// PatientMatches answers GetMatchedPatient.
type PatientMatches struct {
	XMLName  xml.Name  `xml:"PatientMatches"`
	Patients []Patient `xml:"Patient"`
}

// Patient is a patient registration. DBID is the EMIS number staff read off the record.
type Patient struct {
	DBID        int64  `xml:"DBID"`
	NhsNumber   string `xml:"NhsNumber"`
	Title       string `xml:"Title"`
	FamilyName  string `xml:"FamilyName"`
	FirstNames  string `xml:"FirstNames"`
	DateOfBirth string `xml:"DateOfBirth"` // yyyy-mm-dd
	Sex         string `xml:"Sex"`         // M, F, U (unknown), I (indeterminate)
	Address     string `xml:"Address"`
	Postcode    string `xml:"Postcode"`
}

// PatientAppointmentList answers GetPatientAppointments.
type PatientAppointmentList struct {
	XMLName      xml.Name `xml:"PatientAppointmentList"`
	Appointments []Slot   `xml:"Slot"`
}
