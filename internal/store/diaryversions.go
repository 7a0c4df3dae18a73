package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Reads of diary versions asked for within gatherWindow of one another are one query
// (gather.go). Each pass still has a version read by a query that began after it asked and
// ended before it goes on to EMIS, which is all the sync's memo needs (slotsync/memo.go).

// diaryVersionsOf* read several practices' versions: ids as an array on PostgreSQL, as a JSON
// array on SQLite, so that one prepared statement serves any number.
const (
	diaryVersionOneSQL      = `SELECT COALESCE(MAX(diary), 0) FROM slot_versions WHERE practice_id = ? AND shard = -1`
	diaryVersionsOfPostgres = `SELECT practice_id, MAX(diary) FROM slot_versions WHERE practice_id = ANY(?) AND shard = -1 GROUP BY practice_id`
	diaryVersionsOfSQLite   = `SELECT practice_id, MAX(diary) FROM slot_versions WHERE practice_id IN (SELECT value FROM json_each(?)) AND shard = -1 GROUP BY practice_id`
)

// diaryVersionsOf reads the diary versions of ids, in their order; 0 for a practice with none.
func (s *Store) diaryVersionsOf(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) == 1 {
		var v int64
		if err := s.db.QueryRowPrepared(ctx, diaryVersionOneSQL, ids[0]).Scan(&v); err != nil {
			return nil, err
		}
		return []int64{v}, nil
	}
	q, arg := diaryVersionsOfPostgres, any(ids)
	if s.dialect == SQLite {
		list, err := json.Marshal(ids)
		if err != nil {
			return nil, err
		}
		q, arg = diaryVersionsOfSQLite, string(list)
	}
	rows, err := s.db.QueryPrepared(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[int64]int64, len(ids))
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		got[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %d practices' diary versions: %w", len(ids), err)
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = got[id]
	}
	return out, nil
}
