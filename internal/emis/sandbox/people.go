package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"herolink/internal/emis"
)

var surnames = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
	"Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
	"Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill",
	"Ward", "Hughes", "Moore", "Clark", "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris",
	"Khan", "Ahmed", "Ali", "Begum", "Hussain", "Singh", "Kaur", "Shah", "Mistry", "Chowdhury", "Rahman",
	"Nowak", "Kowalski", "Okafor", "Adeyemi", "Mensah", "Nguyen", "Chen", "Wong", "Murphy", "Kelly",
	"O'Brien", "O'Connor", "McDonald", "MacLeod", "Campbell", "Stewart", "Anderson", "Scott", "Young",
	"Mitchell", "Phillips", "Parker", "Bennett", "Cook", "Bailey", "Carter", "Morgan", "Price", "Bell"}

var femaleNames = []string{"Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Sophie",
	"Emily", "Ella", "Poppy", "Evie", "Charlotte", "Jessica", "Sarah", "Emma", "Rachel", "Hannah",
	"Margaret", "Susan", "Patricia", "Linda", "Elizabeth", "Karen", "Helen", "Joanne", "Claire", "Nicola",
	"Aisha", "Fatima", "Priya", "Sana", "Amira", "Zainab", "Maryam", "Anna", "Maja", "Chiamaka", "Ngozi",
	"Siobhan", "Niamh", "Chloé", "Zoë", "Mary", "Jane", "Ruth", "Joan", "Dorothy", "Eileen"}

var maleNames = []string{"Oliver", "George", "Noah", "Arthur", "Harry", "Leo", "Muhammad", "Jack",
	"Charlie", "Oscar", "Jacob", "Thomas", "James", "William", "David", "John", "Michael", "Robert",
	"Peter", "Paul", "Andrew", "Mark", "Richard", "Christopher", "Daniel", "Matthew", "Stephen", "Gary",
	"Mohammed", "Ahmed", "Imran", "Ravi", "Arjun", "Sanjay", "Tomasz", "Piotr", "Chinedu", "Kwame",
	"Sean", "Ciarán", "José", "Luca", "Keith", "Brian", "Kevin", "Ian", "Alan", "Colin", "Graham", "Derek"}

var streets = []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane",
	"Manor Road", "Park Avenue", "Mill Lane", "Queens Road", "The Crescent", "Riverside Walk", "Oak Close"}

var placeNames = []string{"Riverside", "Oakfield", "Meadowbank", "Castle Street", "Northgate", "Elmwood",
	"Parkview", "Westfield", "Ashby", "Brookside", "Hillcrest", "Kingsway", "Abbey", "Mill House",
	"Harbour", "Priory", "Willow Tree", "Beechwood", "Fairfield", "Stonebridge"}

var practiceKinds = []string{"Medical Practice", "Surgery", "Health Centre", "Medical Centre", "Family Practice"}

var postcodeAreas = []string{"LS", "M", "B", "S", "NE", "BS", "L", "NG", "LE", "SW", "E", "N", "CB", "OX", "YO"}

func randomPostcode(r *rand.Rand) string {
	const letters = "ABDEFGHJLNPQRSTUWXYZ"
	return fmt.Sprintf("%s%d %d%c%c", pick(r, postcodeAreas), 1+r.IntN(20), r.IntN(10),
		letters[r.IntN(len(letters))], letters[r.IntN(len(letters))])
}

// normalisePostcode upper-cases and puts the single space before the inward code.
func normalisePostcode(p string) string {
	p = strings.ToUpper(strings.Join(strings.Fields(p), ""))
	if len(p) > 3 {
		p = p[:len(p)-3] + " " + p[len(p)-3:]
	}
	return p
}

func lowerASCII(s string) string { return strings.ToLower(s) }

// username makes an EMIS-style username: first initial and surname, letters only.
func username(first, last string) string {
	var b strings.Builder
	b.WriteByte(first[0])
	for _, c := range last {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return strings.ToLower(b.String())
}

// NHSCheckDigit computes the Modulus 11 check digit of a 9-digit NHS number body; ok is false
// when the body cannot have one (the remainder gives 10).
func NHSCheckDigit(body string) (digit int, ok bool) {
	if len(body) != 9 {
		return 0, false
	}
	sum := 0
	for i, c := range body {
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return check, true
}

// testNHSNumber builds a valid NHS number in the 999 range reserved for test data. Within one
// practice the numbers are unique (they differ in their last three body digits); across
// practices they may repeat, which test data allows.
func testNHSNumber(practice, index int) string {
	for bump := 0; ; bump++ {
		// "999" and two three-digit parts, written without fmt (a slot list writes many).
		a, b := (practice+bump*337)%1000, index%1000
		if a < 0 || b < 0 {
			panic("sandbox: negative practice or patient index")
		}
		n := [10]byte{'9', '9', '9', '0' + byte(a/100), '0' + byte(a/10%10), '0' + byte(a%10),
			'0' + byte(b/100), '0' + byte(b/10%10), '0' + byte(b%10), 0}
		if d, ok := NHSCheckDigit(string(n[:9])); ok {
			n[9] = '0' + byte(d)
			return string(n[:])
		}
	}
}

// Patient is a registration on the practice's register. ID is the EMIS number.
type Patient struct {
	ID          int64  `json:"id"`
	NHSNumber   string `json:"nhs_number"`
	Title       string `json:"title"`
	FamilyName  string `json:"family_name"`
	FirstNames  string `json:"first_names"`
	DateOfBirth string `json:"date_of_birth"` // yyyy-mm-dd
	Sex         string `json:"sex"`           // M, F, U, I
	Address     string `json:"address"`
	Postcode    string `json:"postcode"`
	Phone       string `json:"phone,omitempty"`
	// Deducted is the date the patient left the practice (yyyy-mm-dd), "" while registered.
	// EMIS keeps a deducted record, but it is no longer bookable nor found by a patient search.
	Deducted string `json:"deducted,omitempty"`
}

const firstEMISNumber = 500

func emisNumber(index int) int64 { return int64(firstEMISNumber + index) }

// hardCases are registered at every generated practice at the start of the register: the
// people that make patient matching hard.
var hardCases = []Patient{
	{Title: "Miss", FamilyName: "Okafor", FirstNames: "Chiamaka", DateOfBirth: "2009-03-14", Sex: "F"}, // twin
	{Title: "Miss", FamilyName: "Okafor", FirstNames: "Chinwe", DateOfBirth: "2009-03-14", Sex: "F"},   // twin
	{Title: "Mr", FamilyName: "Khan", FirstNames: "Mohammed", DateOfBirth: "1984-07-02", Sex: "M"},     // same name and birthday
	{Title: "Mr", FamilyName: "Khan", FirstNames: "Mohammed", DateOfBirth: "1984-07-02", Sex: "M"},     // ...different person
	{Title: "Mrs", FamilyName: "Smith-Jones", FirstNames: "Anna Maria", DateOfBirth: "1971-11-30", Sex: "F"},
	{Title: "Mr", FamilyName: "O'Brien", FirstNames: "Seán", DateOfBirth: "1958-05-06", Sex: "M"},
	{Title: "Ms", FamilyName: "D'Souza", FirstNames: "Zoë", DateOfBirth: "1990-12-01", Sex: "F"},
	{Title: "Mrs", FamilyName: "Brown", FirstNames: "Emily", DateOfBirth: "1985-02-03", Sex: "F"}, // day/month swap pair
	{Title: "Mrs", FamilyName: "Brown", FirstNames: "Emily", DateOfBirth: "1985-03-02", Sex: "F"},
	{Title: "Mr", FamilyName: "MacLeod", FirstNames: "Iain", DateOfBirth: "1966-08-19", Sex: "M"},
	{Title: "Mr", FamilyName: "McLeod", FirstNames: "Ian", DateOfBirth: "1966-08-19", Sex: "M"},
	{Title: "Master", FamilyName: "Nguyen", FirstNames: "Minh", DateOfBirth: "2019-06-21", Sex: "M"}, // triplets
	{Title: "Miss", FamilyName: "Nguyen", FirstNames: "Lan", DateOfBirth: "2019-06-21", Sex: "F"},
	{Title: "Miss", FamilyName: "Nguyen", FirstNames: "Mai", DateOfBirth: "2019-06-21", Sex: "F"},
	{Title: "Mrs", FamilyName: "Taylor", FirstNames: "Joanne", DateOfBirth: "1979-09-09", Sex: "F"}, // married name; née Walker
	{Title: "Mx", FamilyName: "Kowalski", FirstNames: "Alex", DateOfBirth: "2001-01-01", Sex: "I"},
}

// generatedPatient derives the index-th patient of a generated register.
func (o *Org) generatedPatient(index int) Patient {
	p, r := o.generatedNames(index)
	if index >= len(hardCases) {
		year := 1930 + r.IntN(95)
		p.DateOfBirth = fmt.Sprintf("%04d-%02d-%02d", year, 1+r.IntN(12), 1+r.IntN(28))
		if year >= 2008 {
			if p.Sex == "F" {
				p.Title = "Miss"
			} else {
				p.Title = "Master"
			}
		}
	}
	// Household: neighbours share an address, so twins and families live together.
	hr := rngFor(o.Seed, uint64(o.GenSerial), 5, uint64(index/3))
	p.Address = fmt.Sprintf("%d %s, %s", 1+hr.IntN(180), pick(hr, streets), pick(hr, placeNames))
	p.Postcode = randomPostcode(hr)
	p.Phone = fmt.Sprintf("07700 9%05d", r.IntN(100000))
	return p
}

// generatedNames is the start of generatedPatient: the numbers, sex, title and names, with the
// generator positioned for the rest. A booked slot names its patient by these alone, and making
// the whole patient for each was a sixth of the sandbox's work at 7,000 practices.
func (o *Org) generatedNames(index int) (Patient, *rand.Rand) {
	p := Patient{ID: emisNumber(index), NHSNumber: testNHSNumber(o.GenSerial, index)}
	r := rngFor(o.Seed, uint64(o.GenSerial), 4, uint64(index))
	if index < len(hardCases) {
		hc := hardCases[index]
		p.Title, p.FamilyName, p.FirstNames, p.DateOfBirth, p.Sex = hc.Title, hc.FamilyName, hc.FirstNames, hc.DateOfBirth, hc.Sex
	} else {
		female := r.IntN(2) == 0
		if female {
			p.Sex, p.Title, p.FirstNames = "F", pick(r, []string{"Mrs", "Miss", "Ms"}), pick(r, femaleNames)
		} else {
			p.Sex, p.Title, p.FirstNames = "M", "Mr", pick(r, maleNames)
		}
		if r.IntN(6) == 0 { // a middle name
			if female {
				p.FirstNames += " " + pick(r, femaleNames)
			} else {
				p.FirstNames += " " + pick(r, maleNames)
			}
		}
		p.FamilyName = pick(r, surnames)
		if r.IntN(25) == 0 {
			p.FamilyName += "-" + pick(r, surnames)
		}
	}
	return p, r
}

// patientBriefLocked is what a slot says of its patient: the names and numbers, without making
// the rest of a generated patient.
func (o *Org) patientBriefLocked(id int64) (emis.PatientBrief, bool) {
	if _, edited := o.PatientEdits[id]; !edited {
		if idx := int(id - firstEMISNumber); idx >= 0 && idx < o.GenPatients {
			p, _ := o.generatedNames(idx)
			return emis.PatientBrief{DBID: p.ID, NhsNumber: p.NHSNumber, FamilyName: p.FamilyName, FirstNames: p.FirstNames}, true
		}
	}
	p, found := o.patientLocked(id)
	return emis.PatientBrief{DBID: p.ID, NhsNumber: p.NHSNumber, FamilyName: p.FamilyName, FirstNames: p.FirstNames}, found
}

// patientLocked finds a patient by EMIS number.
func (o *Org) patientLocked(id int64) (Patient, bool) {
	if p, ok := o.PatientEdits[id]; ok {
		return *p, true
	}
	if idx := int(id - firstEMISNumber); idx >= 0 && idx < o.GenPatients {
		return o.generatedPatient(idx), true
	}
	for _, p := range o.ExtraPatients {
		if p.ID == id {
			return *p, true
		}
	}
	return Patient{}, false
}

// eachPatientLocked visits the whole register in EMIS number order until visit returns false.
func (o *Org) eachPatientLocked(visit func(Patient) bool) {
	for i := 0; i < o.GenPatients; i++ {
		id := emisNumber(i)
		p, _ := o.patientLocked(id)
		if !visit(p) {
			return
		}
	}
	for _, p := range o.ExtraPatients {
		if e, ok := o.PatientEdits[p.ID]; ok {
			p = e
		}
		if !visit(*p) {
			return
		}
	}
}

// seedDemoPatients gives the demo register a few named patients a newcomer can find easily.
func seedDemoPatients(o *Org) {
	o.ExtraPatients = append(o.ExtraPatients,
		&Patient{ID: 9001, NHSNumber: testNHSNumber(900, 1), Title: "Mrs", FamilyName: "Demo", FirstNames: "Dorothy",
			DateOfBirth: "1948-04-12", Sex: "F", Address: "1 Riverside Walk, Riverside", Postcode: "LS1 4AP", Phone: "07700 900001"},
		&Patient{ID: 9002, NHSNumber: testNHSNumber(900, 2), Title: "Mr", FamilyName: "Demo", FirstNames: "Derek",
			DateOfBirth: "1950-10-30", Sex: "M", Address: "1 Riverside Walk, Riverside", Postcode: "LS1 4AP", Phone: "07700 900002"})
	o.NextIDs["patient"] = 9002
}
