package sandbox

import "testing"

func TestAdminKeysAreSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"DBID": "dbid", "SessionDBID": "session_dbid", "TypeID": "type_id", "GUID": "guid", "StartTime": "start_time",
		"AppointmentStatus": "appointment_status", "slots": "slots", "slot_type_id": "slot_type_id", "EMISNumber": "emis_number",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
