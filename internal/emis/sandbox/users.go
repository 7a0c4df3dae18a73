package sandbox

import (
	"fmt"
	"net/mail"
	"strings"

	"herolink/internal/emis"
)

// UserInput is the guide's user form (Organisation Configuration -> Users -> Add), and the body
// of PATCH where nil fields are left as they are.
type UserInput struct {
	Title                  *string `json:"title"`
	FirstName              *string `json:"first_name"`
	LastName               *string `json:"last_name"`
	Gender                 *string `json:"gender"`
	Email                  *string `json:"email"`
	Username               *string `json:"username"`
	Password               *string `json:"password"`
	MustChangePassword     *bool   `json:"must_change_password"`
	JobCategory            *string `json:"job_category"`
	Mnemonic               *string `json:"mnemonic"`
	AuthorisePrescriptions *string `json:"authorise_prescriptions"`
	Relationship           *string `json:"relationship"`
	ContractStart          *string `json:"contract_start"`
	ContractEnd            *string `json:"contract_end"`
	RBACRole               *string `json:"rbac_role"`
}

var genders = []string{"Not specified", "Male", "Female", "Indeterminate"}

// CreateUser adds an EMIS user. The EMIS user password is stored but never returned; it is a
// different secret from any EMAS Manager API password.
func (o *Org) CreateUser(in UserInput) (User, error) {
	u := &User{Gender: "Not specified", AuthorisePrescriptions: "None", Relationship: "Associated",
		MustChangePassword: true, ContractStart: o.world.Today().String()}
	for _, req := range []struct {
		name string
		v    *string
	}{{"first_name", in.FirstName}, {"last_name", in.LastName}, {"username", in.Username}, {"password", in.Password}} {
		if req.v == nil || *req.v == "" {
			return User{}, invalid("%s is required", req.name)
		}
	}
	if err := applyUserInput(u, in); err != nil {
		return User{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if other := o.userFoldLocked(u.Username); other != nil {
		return User{}, &ConflictError{Msg: fmt.Sprintf("a user with username %q already exists (%s %s)",
			other.Username, other.FirstName, other.LastName)}
	}
	u.DBID = o.nextID("user", int64(1000+len(o.Users)))
	o.Users = append(o.Users, u)
	o.touch()
	return u.public(), nil
}

// EditUser changes some fields of a user. Changing the username is refused: EMAS Manager keys
// its ticks on it.
func (o *Org) EditUser(username string, in UserInput) (User, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.userLocked(username)
	if u == nil {
		return User{}, fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	if in.Username != nil && *in.Username != u.Username {
		return User{}, invalid("username cannot be changed; create a new user instead")
	}
	next := *u
	if err := applyUserInput(&next, in); err != nil {
		return User{}, err
	}
	*u = next
	o.touch()
	return u.public(), nil
}

func applyUserInput(u *User, in UserInput) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&u.Title, in.Title)
	set(&u.FirstName, in.FirstName)
	set(&u.LastName, in.LastName)
	set(&u.Email, in.Email)
	set(&u.JobCategory, in.JobCategory)
	set(&u.Mnemonic, in.Mnemonic)
	set(&u.AuthorisePrescriptions, in.AuthorisePrescriptions)
	set(&u.Relationship, in.Relationship)
	set(&u.RBACRole, in.RBACRole)
	if in.Username != nil {
		name := *in.Username
		if strings.TrimSpace(name) != name {
			return invalid("username %q has spaces at the start or end", name)
		}
		if len(name) < 3 || len(name) > 30 || strings.ContainsAny(name, " \t") {
			return invalid("username must be 3 to 30 characters without spaces")
		}
		u.Username = name
	}
	if in.Password != nil {
		if len(*in.Password) < 8 {
			return invalid("password must be at least 8 characters")
		}
		u.Password = *in.Password
	}
	if in.MustChangePassword != nil {
		u.MustChangePassword = *in.MustChangePassword
	}
	if in.Gender != nil {
		g := strings.TrimSpace(*in.Gender)
		ok := false
		for _, known := range genders {
			if strings.EqualFold(g, known) {
				u.Gender, ok = known, true
			}
		}
		if !ok {
			return invalid("gender %q must be one of %s", g, strings.Join(genders, ", "))
		}
	}
	if u.Email != "" {
		if _, err := mail.ParseAddress(u.Email); err != nil {
			return invalid("email %q is not an email address", u.Email)
		}
	}
	if in.ContractStart != nil {
		d, err := emis.ParseDate(strings.TrimSpace(*in.ContractStart))
		if err != nil {
			return invalid("contract_start: %v", err)
		}
		u.ContractStart = d.String()
	}
	if in.ContractEnd != nil {
		if strings.TrimSpace(*in.ContractEnd) == "" {
			u.ContractEnd = ""
		} else {
			d, err := emis.ParseDate(strings.TrimSpace(*in.ContractEnd))
			if err != nil {
				return invalid("contract_end: %v", err)
			}
			u.ContractEnd = d.String()
		}
	}
	if u.ContractEnd != "" && u.ContractEnd < u.ContractStart {
		return invalid("contract_end %s is before contract_start %s", u.ContractEnd, u.ContractStart)
	}
	if u.FirstName == "" || u.LastName == "" {
		return invalid("first_name and last_name cannot be empty")
	}
	return nil
}

// public is the user without the EMIS user password.
func (u *User) public() User {
	c := *u
	c.Password = ""
	return c
}

// SearchUsers is the Users screen's search: case-insensitive, over username, first and last name.
func (o *Org) SearchUsers(text string) []User {
	q := strings.ToLower(strings.TrimSpace(text))
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []User
	for _, u := range o.Users {
		hay := strings.ToLower(u.Username + " " + u.FirstName + " " + u.LastName + " / " + u.LastName + ", " + u.FirstName)
		if q == "" || strings.Contains(hay, q) {
			out = append(out, u.public())
		}
	}
	sortUsers(out)
	return out
}

// GetUser finds a user by exact username.
func (o *Org) GetUser(username string) (User, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.userLocked(username)
	if u == nil {
		return User{}, fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	return u.public(), nil
}
