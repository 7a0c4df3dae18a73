package practice

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// conns caches one logged-on EMIS connection per practice, so that sync and booking do not log
// on for every call. An entry is dropped when the practice's connection in force changes.
type conns struct {
	mu sync.Mutex
	m  map[int64]cachedConn
}

type cachedConn struct {
	connectionID int64
	conn         *emis.Conn
}

// Conn returns a logged-on EMIS connection for a practice, using the credentials in force. It
// refuses credentials EMIS has rejected (ErrCredentialsRejected) and practices without a
// connection (store.ErrNotFound).
func (s *Service) Conn(ctx context.Context, practiceID int64) (*emis.Conn, error) {
	// Fast path, taken by almost every sync pass: the connection in force changes only
	// through this service (Connect, or a refusal recorded here or by CheckHealth), which
	// forgets the cached connection then, so a cached one that EMIS has not refused is current.
	s.conns.mu.Lock()
	c, ok := s.conns.m[practiceID]
	s.conns.mu.Unlock()
	if ok && c.conn.Refused() == nil {
		return c.conn, nil
	}
	p, err := s.Store.PracticeByID(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	if p.CredentialsRejected {
		return nil, ErrCredentialsRejected
	}
	active, err := s.Store.ActiveConnection(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	if ok && c.connectionID == active.ID {
		refused := c.conn.Refused()
		if refused == nil {
			return c.conn, nil
		}
		// EMIS refused a re-logon (the password changed in EMAS Manager, say): record it once
		// and forget the connection; a refused password is never sent again.
		s.conns.mu.Lock()
		delete(s.conns.m, practiceID)
		s.conns.mu.Unlock()
		u := store.HealthUpdate{PracticeID: p.ID, ConnectionID: active.ID}
		classifyHealth(&u, refused)
		if !u.CredentialsRejected {
			u.NextCheck = s.nextCheck(0)
		}
		_ = s.Store.RecordHealth(ctx, u)
		return nil, refused
	}
	password, err := s.Vault.Open(active.KeyID, active.PasswordSealed, PasswordPurpose)
	if err != nil {
		return nil, fmt.Errorf("practice: open the API password of practice %s: %w", p.ODS, err)
	}
	conn, err := s.Tester.Caller.Connect(ctx, emis.Credentials{CDB: p.CDB, Username: active.Username, APIPassword: string(password)})
	if err != nil {
		if errors.Is(err, emis.ErrLogonUnsuccessful) {
			u := store.HealthUpdate{PracticeID: p.ID, ConnectionID: active.ID}
			classifyHealth(&u, err)
			_ = s.Store.RecordHealth(ctx, u)
		}
		return nil, err
	}
	s.conns.mu.Lock()
	if s.conns.m == nil {
		s.conns.m = map[int64]cachedConn{}
	}
	s.conns.m[practiceID] = cachedConn{connectionID: active.ID, conn: conn}
	s.conns.mu.Unlock()
	return conn, nil
}

// forget drops a practice's cached connection: its credentials changed or were refused.
func (s *Service) forget(practiceID int64) {
	s.conns.mu.Lock()
	delete(s.conns.m, practiceID)
	s.conns.mu.Unlock()
}

// DropStaleConns forgets the logged-on connections whose credentials are no longer the ones in
// force, or were rejected: another instance replaced them or saw EMIS refuse them. The next
// call logs on with the credentials in force.
func (s *Service) DropStaleConns(ctx context.Context) error {
	s.conns.mu.Lock()
	n := len(s.conns.m)
	s.conns.mu.Unlock()
	if n == 0 {
		return nil
	}
	inForce, err := s.Store.ActiveConnectionIDs(ctx)
	if err != nil {
		return err
	}
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	for id, c := range s.conns.m {
		if inForce[id] != c.connectionID {
			delete(s.conns.m, id)
		}
	}
	return nil
}
