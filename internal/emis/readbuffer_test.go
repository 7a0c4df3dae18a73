package emis

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// readCounter counts the reads of a connection that returned bytes.
type readCounter struct {
	net.Conn
	reads *atomic.Int64
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

// A session's slot list is 5-10 KB: the caller reads such an answer, which EMIS sent in one
// piece, in one read of its connection, head and body together (net/http's default 4 KiB
// buffer took two, a syscall each, for almost every call of the sync).
func TestCallerReadsAnAnswerSentInOnePieceInOneRead(t *testing.T) {
	t.Parallel()
	body := `<PartnerApiResponse method="GetAppointmentSessions"><Outcome>1</Outcome><Result><AppointmentSessionList>` +
		strings.Repeat(`<AppointmentSession><DBID>1</DBID><Description>Morning surgery</Description></AppointmentSession>`, 110) +
		`</AppointmentSessionList></Result></PartnerApiResponse>`
	answer := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if len(answer) < 10<<10 || len(answer) > answerReadBuffer-1<<10 {
		t.Fatalf("the answer is %d bytes: the test wants one well over 4 KiB that fits the buffer", len(answer))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // one connection, each answer written whole at once
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if _, err := conn.Write([]byte(answer)); err != nil {
				return
			}
		}
	}()
	c, err := NewCaller(Config{BaseURL: "http://" + ln.Addr().String(), SupplierID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	tr := c.http.Transport.(*http.Transport) // the transport NewCaller made: the one herolink uses
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return readCounter{conn, &reads}, nil
	}
	defer tr.CloseIdleConnections()
	for call := 1; call <= 3; call++ {
		before := reads.Load()
		if _, err := c.Call(context.Background(), MethodGetAppointmentSessions, nil, nil); err != nil {
			t.Fatalf("call %d: %v", call, err)
		}
		if n := reads.Load() - before; n != 1 {
			t.Errorf("call %d read its %d-byte answer in %d reads, want 1", call, len(answer), n)
		}
	}
}
