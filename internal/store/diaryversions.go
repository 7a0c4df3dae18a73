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
// array on SQLite, so that one prepared statement serves any number. A practice has at most
// one diary row (the key is practice and shard); one with none has no row in the answer. On
// SQLite the ids are joined to the counters' key: "IN (SELECT ...) GROUP BY" built a
// temporary index of the ids and sorted the answer: a third slower for four practices.
const (
	diaryVersionOneSQL      = `SELECT COALESCE(MAX(diary), 0) FROM slot_versions WHERE practice_id = ? AND shard = -1`
	diaryVersionsOfPostgres = `SELECT practice_id, MAX(diary) FROM slot_versions WHERE practice_id = ANY(?) AND shard = -1 GROUP BY practice_id`
	diaryVersionsOfSQLite   = `SELECT v.practice_id, v.diary FROM json_each(?) AS ids
	JOIN slot_versions v ON v.practice_id = ids.value AND v.shard = -1`
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
