package practice

// Status of one line of the connection checklist.
type Status string

const (
	Pass       Status = "pass"
	Fail       Status = "fail"
	NotReached Status = "not_reached"
)

// Step identifies a line of the checklist: one per thing the setup guide asks for.
type Step string

const (
	StepODS         Step = "ods"
	StepProduct     Step = "product"
	StepUser        Step = "user"
	StepActivated   Step = "activated"
	StepEditUsers   Step = "edit_users"
	StepAPIPassword Step = "api_password"
	StepLoginAccess Step = "login_access"
	StepAccount     Step = "account"
	StepRole        Step = "role"
	StepSlotType    Step = "slot_type"
)

// Check is one line of the checklist: what was checked, how it went, and in plain words what
// to do about a failure (which screen, which button).
type Check struct {
	Step    Step   `json:"step"`
	Title   string `json:"title"`
	Status  Status `json:"status"`
	Message string `json:"message,omitempty"`
}

// steps is the checklist in the order the guide and the connection test meet them.
var steps = []struct {
	step  Step
	title string
}{
	{StepODS, "ODS code known to EMIS"},
	{StepProduct, "Hero Health recognised by EMIS for this practice"},
	{StepUser, "Step 1: the EMIS user exists (Herouser)"},
	{StepActivated, "Step 2: Hero Health activated in EMAS Manager (green tick)"},
	{StepEditUsers, "Step 2: the user is ticked in EMAS Manager → Edit Users"},
	{StepAPIPassword, "Step 2: the API password is accepted"},
	{StepLoginAccess, "Step 2: Login Access has Auto Login and Allow Login ticked"},
	{StepAccount, "Step 1: the user account is active (contract dates, no forced password change)"},
	{StepRole, "Step 1: the role profile allows appointments and patients (Practice Manager SJR004)"},
	{StepSlotType, "Step 3: the \"Hero unregistered patient\" slot type exists"},
}

// Checklist is the result of a connection test, one line per step.
type Checklist []Check

func newChecklist() Checklist {
	c := make(Checklist, len(steps))
	for i, s := range steps {
		c[i] = Check{Step: s.step, Title: s.title, Status: NotReached}
	}
	return c
}

func (c Checklist) set(step Step, st Status, msg string) {
	for i := range c {
		if c[i].Step == step {
			c[i].Status, c[i].Message = st, msg
			return
		}
	}
}

// passUpTo marks every step before step as passed (they must have passed for EMIS to get there).
func (c Checklist) passUpTo(step Step) {
	for i := range c {
		if c[i].Step == step {
			return
		}
		if c[i].Status == NotReached {
			c[i].Status = Pass
		}
	}
}

// Get returns the line of a step.
func (c Checklist) Get(step Step) Check {
	for _, ch := range c {
		if ch.Step == step {
			return ch
		}
	}
	return Check{}
}

// AllPass reports whether every line passed.
func (c Checklist) AllPass() bool {
	for _, ch := range c {
		if ch.Status != Pass {
			return false
		}
	}
	return true
}

// FirstFailure is the first failing line, or a zero Check.
func (c Checklist) FirstFailure() Check {
	for _, ch := range c {
		if ch.Status == Fail {
			return ch
		}
	}
	return Check{}
}
