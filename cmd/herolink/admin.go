package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"herolink/internal/practice"
	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/vault"
	"herolink/internal/webhook"
)

// openStore opens and migrates the database (PostgreSQL when HEROLINK_DATABASE_URL or
// --database-url names one, else SQLite in the data directory), for admin commands.
func openStore(ctx context.Context, dataDir, databaseURL string) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{DatabaseURL: databaseURL, DataDir: dataDir})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// runStaff manages staff users: `herolink staff add`.
func runStaff(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New(`usage: herolink staff add --username NAME --role support|practice [--practice-ods CODE] [--name "Full Name"] --password-stdin`)
	}
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", env("HEROLINK_DATA_DIR", "data"), "data directory")
	databaseURL := fs.String("database-url", env("HEROLINK_DATABASE_URL", ""), "postgres:// URL; empty: SQLite in the data directory (HEROLINK_DATABASE_URL)")
	username := fs.String("username", "", "sign-in name")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "support (sees every practice) or practice (sees one)")
	ods := fs.String("practice-ods", "", "for role practice: the practice's ODS code")
	directoryURL := fs.String("directory-url", env("HEROLINK_DIRECTORY_URL", ""), "ODS to CDB directory, to add a practice herolink does not know yet")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*username) == "" || (*role != store.RoleSupport && *role != store.RolePractice) || !*pwStdin {
		return errors.New("--username, --role support|practice and --password-stdin are required")
	}
	pw, err := readPasswordLine(stdin)
	if err != nil {
		return err
	}
	if len(pw) < 12 {
		return errors.New("the staff password must be at least 12 characters")
	}
	st, err := openStore(ctx, *dataDir, *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	u := store.StaffUser{Username: strings.TrimSpace(*username), DisplayName: *name, Role: *role}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	if *role == store.RolePractice {
		code := strings.ToUpper(strings.TrimSpace(*ods))
		p, err := st.PracticeByODS(ctx, code)
		if errors.Is(err, store.ErrNotFound) {
			// A practice manager makes the first connection: add the practice, unconnected.
			if *directoryURL == "" {
				return fmt.Errorf("--practice-ods %s: herolink does not know this practice yet; give --directory-url so it can be looked up", code)
			}
			entry, lerr := (&practice.HTTPDirectory{BaseURL: *directoryURL}).Lookup(ctx, code)
			if lerr != nil {
				return fmt.Errorf("--practice-ods %s: %w", code, lerr)
			}
			p, err = st.EnsurePractice(ctx, entry.ODS, entry.CDB, entry.Name)
		}
		if err != nil {
			return fmt.Errorf("--practice-ods %q: %w", *ods, err)
		}
		u.PracticeID = p.ID
	}
	if u.PasswordHash, err = staff.HashPassword(pw); err != nil {
		return err
	}
	if _, err := st.CreateStaffUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "staff user %s (%s) created\n", strings.ToLower(u.Username), u.Role)
	return nil
}

// runVault handles `herolink vault rotate`: every sealed secret re-sealed under a new key.
func runVault(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: herolink vault rotate [--data-dir DIR]")
	}
	fs := flag.NewFlagSet("vault rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", env("HEROLINK_DATA_DIR", "data"), "data directory")
	databaseURL := fs.String("database-url", env("HEROLINK_DATABASE_URL", ""), "postgres:// URL; empty: SQLite in the data directory (HEROLINK_DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	keys, err := vault.Load(filepath.Join(*dataDir, "secret.keys"))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dataDir, *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	newID, err := keys.BeginRotation()
	if err != nil {
		return err
	}
	n, err := st.ResealAll(ctx, func(s store.SealedSecret) (string, []byte, error) {
		purpose := practice.PasswordPurpose
		if s.Table == "webhook_endpoints" {
			purpose = webhook.SecretPurpose
		}
		plain, err := keys.Open(s.KeyID, s.Sealed, purpose)
		if err != nil {
			return "", nil, err
		}
		return keys.Seal(plain, purpose)
	})
	if err != nil {
		return err
	}
	if err := keys.FinishRotation(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d secrets re-sealed under key %s\n", n, newID)
	return nil
}
