package store_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"herolink/internal/store"
)

// An operator's mistake in the database URL is reported without the URL's password: the
// message lands in logs and terminals.
func TestADatabaseURLsPasswordNeverReachesTheErrorMessage(t *testing.T) {
	const secret = "s3cretDBpassw0rd"
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://herolink:" + secret + "@" + closed + "/herolink?sslmode=disable&connect_timeout=2",
		"postgres://herolink:" + secret + "@" + closed + "/herolink?sslmode=nonsense",
		"postgres://herolink:" + secret + "@127.0.0.1:notaport/herolink",
		"mysql://herolink:" + secret + "@" + closed + "/herolink",
	} {
		st, err := store.Open(ctx, store.Options{DatabaseURL: url})
		if err == nil {
			st.Close()
			t.Fatalf("%s opened", strings.ReplaceAll(url, secret, "***"))
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error quotes the password: %v", strings.ReplaceAll(err.Error(), secret, "<PASSWORD>"))
		}
	}
}
