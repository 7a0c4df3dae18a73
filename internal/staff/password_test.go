package staff_test

import (
	"errors"
	"strings"
	"testing"

	"herolink/internal/staff"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := staff.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id PHC with the agreed parameters", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("the hash contains the password")
	}
	ok, err := staff.VerifyPassword(h, "correct horse battery staple")
	if err != nil || !ok {
		t.Fatalf("verify = %v, %v; want true", ok, err)
	}
	again, _ := staff.HashPassword("correct horse battery staple")
	if again == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	t.Parallel()
	h, err := staff.HashPassword("Secret1!")
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"secret1!", "Secret1! ", "", "Secret1"} {
		if ok, err := staff.VerifyPassword(h, pw); ok || err != nil {
			t.Errorf("verify %q = %v, %v; want false, nil", pw, ok, err)
		}
	}
}

func TestMalformedHashIsRefused(t *testing.T) {
	t.Parallel()
	good, err := staff.HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, h := range map[string]string{
		"empty":              "",
		"plain text":         "pw",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"old version":        "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"missing parameter":  "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"repeated parameter": "$argon2id$v=19$m=19456,t=2,t=2$" + salt + "$" + key,
		"zero passes":        "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"absurd memory":      "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"bad salt":           "$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
		"short salt":         "$argon2id$v=19$m=19456,t=2,p=1$YWJj$" + key,
		"short key":          "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$YWJj",
		"padded base64":      "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"extra field":        good + "$x",
	} {
		ok, err := staff.VerifyPassword(h, "pw")
		if ok || !errors.Is(err, staff.ErrMalformedHash) {
			t.Errorf("%s: verify = %v, %v; want false, ErrMalformedHash", name, ok, err)
		}
	}
}
