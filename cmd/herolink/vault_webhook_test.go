package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"herolink/internal/vault"
	"herolink/internal/webhook"
)

// herolink vault rotate re-seals webhook signing secrets too: after it, with only the new key
// left, deliveries can still be signed with the secret the partner holds.
func TestVaultRotateKeepsWebhookSecretsReadable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv(vault.EnvVar, "")
	keys, err := vault.LoadFile(filepath.Join(dir, "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.EnsurePractice(ctx, "A81001", 1001, "The Surgery")
	if err != nil {
		t.Fatal(err)
	}
	svc := webhook.New(st, keys, nil, webhook.Config{})
	ep, err := svc.Create(ctx, p.PracticeGroupID, "key_a", "test", webhook.Input{URL: "https://partner.example/h", EventTypes: []string{webhook.TypeBooked}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	before := keys.Current()
	var out bytes.Buffer
	if err := runVault(ctx, []string{"rotate", "--data-dir", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	after, err := vault.LoadFile(filepath.Join(dir, "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	if ids := after.KeyIDs(); len(ids) != 1 || ids[0] == before {
		t.Fatalf("keys after rotation %v (before %s)", ids, before)
	}
	st, err = openStore(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := st.WebhookEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := after.Open(e.SecretKeyID, e.SecretSealed, webhook.SecretPurpose)
	if err != nil || webhook.Secret(plain).Encode() != ep.Secret {
		t.Fatalf("the secret after rotation: %v (output %q)", err, out.String())
	}
}
