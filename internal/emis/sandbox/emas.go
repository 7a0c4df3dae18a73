package sandbox

import (
	"fmt"
	"strings"
	"unicode"
)

// ProductView is EMAS Manager's row for a partner product. API passwords are never in it.
type ProductView struct {
	Key        string            `json:"key"`
	Name       string            `json:"name"`
	SupplierID string            `json:"supplier_id"`
	Activated  bool              `json:"activated"`
	Users      []ProductUserView `json:"users"`
}

// ProductUserView is one user's line in Edit Users and Login Access.
type ProductUserView struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"` // "User, Hero" as EMAS Manager lists it
	Enabled     bool   `json:"enabled"`      // ticked in Edit Users, with an API password set
	AutoLogin   bool   `json:"auto_login"`
	AllowLogin  bool   `json:"allow_login"`
}

// ListProducts lists EMAS Manager's partner products with, for each, every user of the organisation.
func (o *Org) ListProducts() []ProductView {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]ProductView, 0, len(o.Products))
	for _, p := range o.Products {
		out = append(out, o.productViewLocked(p))
	}
	return out
}

// Product is one product's row.
func (o *Org) Product(key string) (ProductView, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return ProductView{}, fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	return o.productViewLocked(p), nil
}

func (o *Org) productViewLocked(p *Product) ProductView {
	v := ProductView{Key: p.Key, Name: p.Name, SupplierID: p.SupplierID, Activated: p.Activated}
	if v.SupplierID == "" {
		v.SupplierID = o.world.opts.SupplierID
	}
	for _, u := range o.Users {
		row := ProductUserView{Username: u.Username, DisplayName: u.LastName + ", " + u.FirstName}
		if pu, ok := p.Users[u.Username]; ok {
			row.Enabled, row.AutoLogin, row.AllowLogin = true, pu.AutoLogin, pu.AllowLogin
		}
		v.Users = append(v.Users, row)
	}
	return v
}

// Activate is EMAS Manager's Activate Application: the green tick.
func (o *Org) Activate(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	p.Activated = true
	o.touch()
	return nil
}

// Deactivate removes the green tick. Logons stop and open sessions end; Edit Users and Login
// Access settings are kept, so reactivating restores logons.
func (o *Org) Deactivate(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	p.Activated = false
	p.Generation++
	o.touch()
	return nil
}

// CheckAPIPassword applies EMAS Manager's password policy and says what is missing.
func CheckAPIPassword(pw string) error {
	var missing []string
	if len([]rune(pw)) < 8 {
		missing = append(missing, "at least 8 characters")
	}
	var upper, lower, digit bool
	for _, r := range pw {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if len(missing) > 0 {
		return invalid("the API password does not meet the EMAS Manager password policy: it needs %s",
			strings.Join(missing, ", "))
	}
	return nil
}

// SetAPIPassword is Edit Users: tick the user and enter the API password at the prompt. The
// password is stored exactly as typed (spaces and case included) and can never be read back.
// Setting a new password ends the user's open sessions for this product.
func (o *Org) SetAPIPassword(key, username, apiPassword string) error {
	if err := CheckAPIPassword(apiPassword); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	if o.userLocked(username) == nil {
		return fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	pu, ok := p.Users[username]
	if !ok {
		pu = &ProductUser{}
		p.Users[username] = pu
	}
	pu.APIPassword = apiPassword
	p.CredSeq++
	pu.Generation = p.CredSeq
	o.touch()
	return nil
}

// ClearAPIPassword unticks the user in Edit Users: the user can no longer log on to the product.
func (o *Org) ClearAPIPassword(key, username string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	if _, ok := p.Users[username]; !ok {
		return fmt.Errorf("user %q is not ticked in Edit Users: %w", username, ErrNotFound)
	}
	delete(p.Users, username)
	o.touch()
	return nil
}

// SetLoginAccess is Login Access: Auto Login and Allow Login for a user ticked in Edit Users.
func (o *Org) SetLoginAccess(key, username string, autoLogin, allowLogin bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(key)
	if p == nil {
		return fmt.Errorf("partner product %q: %w", key, ErrNotFound)
	}
	if o.userLocked(username) == nil {
		return fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	pu, ok := p.Users[username]
	if !ok {
		return &ConflictError{Msg: fmt.Sprintf("user %q is not ticked in Edit Users for %s; set an API password there first", username, p.Name)}
	}
	pu.AutoLogin, pu.AllowLogin = autoLogin, allowLogin
	o.touch()
	return nil
}
