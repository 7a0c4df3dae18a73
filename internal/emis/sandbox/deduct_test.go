package sandbox_test

import (
	"errors"
	"strconv"
	"testing"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

func TestPatientDemographicsReadsOneRecordByEMISNumber(t *testing.T) {
	t.Parallel()
	_, conn := connected(t, sandbox.Options{Seed: 1})
	p, err := conn.GetPatientDemographics(t.Context(), 9001)
	if err != nil || p.FamilyName != "Demo" || p.FirstNames != "Dorothy" || p.DateOfBirth != "1948-04-12" || p.NhsNumber == "" {
		t.Fatalf("9001 = %+v, %v", p, err)
	}
	if _, err := conn.GetPatientDemographics(t.Context(), 987654); !errors.Is(err, emis.ErrPatientNotFound) {
		t.Fatalf("unknown EMIS number: %v, want patient not found (7)", err)
	}
}

func TestADeductedPatientIsNeitherFoundNorBookable(t *testing.T) {
	t.Parallel()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	ctx := t.Context()
	free := findSlot(t, b, conn, freeFuture(b))

	got := mustDecode[sandbox.Patient](t, b.mustAdmin(t, 200, "POST", demoOrg+"/patients/9001/deduct", nil))
	if got.Deducted != emis.Today(b.clock.Now()).String() {
		t.Fatalf("deducted patient = %+v", got)
	}
	if ps, err := conn.GetMatchedPatient(ctx, "Demo Dorothy"); err != nil || len(ps) != 0 {
		t.Fatalf("a search still finds the deducted patient: %+v, %v", ps, err)
	}
	if _, err := conn.GetPatientDemographics(ctx, 9001); !errors.Is(err, emis.ErrPatientNotFound) {
		t.Fatalf("demographics of a deducted patient: %v, want patient not found", err)
	}
	_, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001, Notes: "x"})
	if !errors.Is(err, emis.ErrPatientNotFound) {
		t.Fatalf("booking a deducted patient: %v, want patient not found (7)", err)
	}
	if sl := slotNow(t, b, free.DBID); sl.Status != emis.SlotAvailable {
		t.Fatalf("the slot changed: %+v", sl)
	}
	// Still Derek: deducting one patient leaves the rest of the register alone.
	if ps, err := conn.GetMatchedPatient(ctx, "Demo Derek"); err != nil || len(ps) != 1 {
		t.Fatalf("Derek: %+v, %v", ps, err)
	}
	b.mustAdmin(t, 404, "POST", demoOrg+"/patients/123456/deduct", nil)
}

func TestReceptionMovesAnAppointmentToAnotherSlot(t *testing.T) {
	t.Parallel()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	ctx := t.Context()
	first := findSlot(t, b, conn, freeFuture(b))
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: first.DBID, PatientID: 9002, Reason: "cough", Notes: "herolink HL-TEST0001"}); err != nil {
		t.Fatal(err)
	}
	second := findSlot(t, b, conn, func(s emis.Slot) bool { return freeFuture(b)(s) && s.DBID != first.DBID })
	path := demoOrg + "/slots/" + strconv.FormatInt(first.DBID, 10) + "/move"
	moved := mustDecodeWire[emis.Slot](t, b.mustAdmin(t, 200, "POST", path, map[string]any{"to_slot_id": second.DBID}))
	if moved.DBID != second.DBID || moved.Status != emis.SlotBooked || len(moved.Patients) != 1 || moved.Patients[0].DBID != 9002 ||
		moved.Notes != "herolink HL-TEST0001" || moved.Reason != "cough" {
		t.Fatalf("moved appointment = %+v", moved)
	}
	if old := slotNow(t, b, first.DBID); old.Status != emis.SlotAvailable || old.Notes != "" || len(old.Patients) != 0 {
		t.Fatalf("the old slot still holds something: %+v", old)
	}
	// Nothing to move from a free slot; nowhere to move to a booked one.
	b.mustAdmin(t, 409, "POST", path, map[string]any{"to_slot_id": second.DBID})
	third := findSlot(t, b, conn, func(s emis.Slot) bool { return freeFuture(b)(s) && s.DBID != first.DBID && s.DBID != second.DBID })
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: third.DBID, PatientID: 9001}); err != nil {
		t.Fatal(err)
	}
	b.mustAdmin(t, 409, "POST", demoOrg+"/slots/"+strconv.FormatInt(second.DBID, 10)+"/move", map[string]any{"to_slot_id": third.DBID})
	if sl := slotNow(t, b, second.DBID); sl.Status != emis.SlotBooked || sl.Patients[0].DBID != 9002 {
		t.Fatalf("a refused move changed the appointment: %+v", sl)
	}
}
