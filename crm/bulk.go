package crm

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/migrations"
)

// bulk statements carry at most this many rows and arguments (well under
// PostgreSQL's 65 535 parameters). Each row count is its own statement
// text, so the prepared-statement cache holds at most maxBulkRows
// variants of each.
const (
	maxBulkRows = 500
	maxBulkArgs = 30000
	// On SQLite a bulk statement carries its values as literals (see
	// sqliteBulk), this many rows or about this many bytes of SQL at most.
	maxSQLiteRows = 100
	maxSQLiteText = 64 << 10
)

// sqliteTime is how the SQLite driver writes a time.Time parameter; values
// written as literals or inside JSON must compare the same way.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// bulk runs head + row, row, … + tail over args, cols arguments a row, in
// chunks. With ids set it scans the single column the statement returns
// into it, in ascending order: rows inserted by one multi-row INSERT get
// their ids in the order of its VALUES (a rowid/identity is allocated per
// row as the row is inserted), so the i-th smallest id is the i-th row.
// The placeholders ("?") are in row only: head and tail take no arguments.
func bulk(tx *gorm.DB, head, row, tail string, cols int, args []any, ids *[]int64) error {
	if strings.Count(row, "?") != cols {
		return fmt.Errorf("bulk: row %q does not have %d placeholders", row, cols)
	}
	if Dialect(tx) == migrations.SQLite {
		return sqliteBulk(tx, head, row, tail, cols, args, ids)
	}
	n := len(args) / cols
	per := max(1, min(maxBulkRows, maxBulkArgs/cols))
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		var sb strings.Builder
		sb.Grow(len(head) + len(tail) + (end-start)*(len(row)+2))
		sb.WriteString(head)
		for r := start; r < end; r++ {
			if r > start {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
		}
		sb.WriteString(tail)
		if err := bulkRun(tx, sb.String(), end-start, ids, args[start*cols:end*cols]...); err != nil {
			return err
		}
	}
	return nil
}

// sqliteBulk is bulk on SQLite. This driver prepares every statement anew
// on each execution and finds each placeholder's argument by a linear
// search (binding is quadratic in their number), so placeholders are what
// a bulk statement costs there: small statements mean many parses, large
// ones quadratic binding, and rows passed as one JSON parameter are
// re-rendered and re-parsed per column. Values written into the statement
// as SQL literals cost only their parse. They are written exactly:
// strings quoted with ' doubled (SQLite has no other escapes in a string
// literal), blobs as X'…', times in the driver's own text format; the
// values a literal would not carry exactly (a string holding NUL, a float:
// SQLite's parser does not round every decimal correctly) stay
// placeholders. The statement goes to the transaction's connection
// directly: gorm would take a ? inside a literal for a placeholder, and
// keep each such one-off statement in its prepared-statement cache.
func sqliteBulk(tx *gorm.DB, head, row, tail string, cols int, args []any, ids *[]int64) error {
	pool := rawPool(tx)
	ctx := tx.Statement.Context
	n := len(args) / cols
	var sb strings.Builder
	var params []any
	for start := 0; start < n; {
		sb.Reset()
		params = params[:0]
		sb.WriteString(head)
		end := start
		for end < n && end-start < maxSQLiteRows && (end == start || sb.Len() < maxSQLiteText) {
			if end > start {
				sb.WriteString(", ")
			}
			c := end * cols
			for i := 0; i < len(row); i++ {
				if row[i] != '?' {
					sb.WriteByte(row[i])
					continue
				}
				p, err := writeLiteral(&sb, args[c])
				if err != nil {
					return fmt.Errorf("bulk: row %d, value %d: %w", end, c-end*cols, err)
				}
				if p != nil {
					params = append(params, p)
				}
				c++
			}
			end++
		}
		sb.WriteString(tail)
		q := sb.String()
		if ids == nil {
			if _, err := pool.ExecContext(ctx, q, params...); err != nil {
				return err
			}
		} else {
			got, err := scanInt64s(pool.QueryContext(ctx, q, params...))
			if err != nil {
				return err
			}
			if len(got) != end-start {
				return fmt.Errorf("%d rows returned for %d written", len(got), end-start)
			}
			slices.Sort(got)
			*ids = append(*ids, got...)
		}
		start = end
	}
	return nil
}

// rawPool is the connection (or transaction) under tx, past gorm's
// prepared-statement cache.
func rawPool(tx *gorm.DB) gorm.ConnPool {
	switch p := tx.Statement.ConnPool.(type) {
	case *gorm.PreparedStmtTX:
		return p.Tx
	case *gorm.PreparedStmtDB:
		return p.ConnPool
	default:
		return p
	}
}

// writeLiteral writes a as an SQLite literal, or writes a placeholder and
// returns the value to bind to it.
func writeLiteral(sb *strings.Builder, a any) (any, error) {
	v := a
	switch x := a.(type) { // the common types without jsonValue's reflection
	case nil, string, int64, int, []byte:
	case *int64:
		if v = nil; x != nil {
			v = *x
		}
	case bool:
		v = 0
		if x {
			v = 1
		}
	case time.Time:
		v = x.Format(sqliteTime)
	default:
		if rv := reflect.ValueOf(a); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			v = rv.Bytes() // json.RawMessage and other byte slices: a blob, as the driver binds them
			break
		}
		var err error
		if v, err = jsonValue(a); err != nil {
			return nil, err
		}
	}
	switch x := v.(type) {
	case nil:
		sb.WriteString("NULL")
	case int:
		sb.WriteString(strconv.Itoa(x))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		sb.WriteString(strconv.FormatUint(x, 10))
	case float64: // SQLite's parser does not round every decimal exactly
		sb.WriteByte('?')
		return x, nil
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			sb.WriteByte('?')
			return x, nil
		}
		sb.WriteByte('\'')
		for {
			i := strings.IndexByte(x, '\'')
			if i < 0 {
				break
			}
			sb.WriteString(x[:i+1])
			sb.WriteByte('\'')
			x = x[i+1:]
		}
		sb.WriteString(x)
		sb.WriteByte('\'')
	case []byte:
		sb.WriteString("X'")
		sb.WriteString(hex.EncodeToString(x))
		sb.WriteByte('\'')
	default:
		return nil, fmt.Errorf("cannot store %T", a)
	}
	return nil, nil
}

// scanInt64s reads the single int64 column of rows.
func scanInt64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// bulkRun executes one bulk statement of n rows, collecting the ids it
// returns when ids is set.
func bulkRun(tx *gorm.DB, q string, n int, ids *[]int64, args ...any) error {
	if ids == nil {
		return tx.Exec(q, args...).Error
	}
	got, err := int64s(tx, q, args...)
	if err != nil {
		return err
	}
	if len(got) != n {
		return fmt.Errorf("%d rows returned for %d written", len(got), n)
	}
	slices.Sort(got)
	*ids = append(*ids, got...)
	return nil
}

// jsonRows encodes args, cols a row, as a JSON array of arrays, each value
// as the SQLite driver would bind it: times in its text format, booleans
// as 0/1, nil pointers as null.
func jsonRows(args []any, cols int) (string, error) {
	rows := make([][]any, 0, len(args)/cols)
	for i := 0; i+cols <= len(args); i += cols {
		r := make([]any, cols)
		for j, a := range args[i : i+cols] {
			v, err := jsonValue(a)
			if err != nil {
				return "", fmt.Errorf("bulk: column %d: %w", j, err)
			}
			r[j] = v
		}
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rows); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func jsonValue(a any) (any, error) {
	switch v := a.(type) {
	case nil, string, int64, int, float64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case time.Time:
		return v.Format(sqliteTime), nil
	case driver.Valuer:
		dv, err := v.Value()
		if err != nil {
			return nil, err
		}
		return jsonValue(dv)
	}
	rv := reflect.ValueOf(a)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return jsonValue(rv.Elem().Interface())
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Bool:
		return jsonValue(rv.Bool())
	}
	return nil, fmt.Errorf("cannot store %T", a)
}

// query runs a raw query and calls scan on each row. (gorm's Raw().Scan
// renders the SQL with its arguments for a logger even when nothing logs:
// costly on big statements.) On SQLite the query goes to the database as
// it is, past gorm: a ? inside a literal (inTuples) stays text, and
// arguments are bound as they are (no expansion of slices).
func query(tx *gorm.DB, scan func(*sql.Rows) error, q string, args ...any) error {
	var rows *sql.Rows
	var err error
	if Dialect(tx) == migrations.SQLite {
		rows, err = rawPool(tx).QueryContext(tx.Statement.Context, q, args...)
	} else {
		rows, err = tx.Raw(q, args...).Rows()
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// int64s returns the single int64 column of a query's rows.
func int64s(tx *gorm.DB, q string, args ...any) ([]int64, error) {
	var out []int64
	err := query(tx, func(r *sql.Rows) error {
		var v int64
		err := r.Scan(&v)
		out = append(out, v)
		return err
	}, q, args...)
	return out, err
}

// inList returns a condition "col IN (vals)" and its one argument, for a
// slice of strings or integers. On SQLite the list goes as one JSON
// parameter (see bulk for why); elsewhere as an ordinary IN list.
func inList(tx *gorm.DB, col string, vals any) (string, any) {
	if Dialect(tx) != migrations.SQLite {
		return col + " IN ?", vals
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(vals) // strings and integers always encode
	return col + " IN (SELECT value FROM json_each(?))", buf.String()
}

// inTuples returns a condition on table's rows "(cols…) IN (tuples)" and
// its arguments: the rows whose columns equal one of the tuples, found by
// one index seek per tuple where an index covers cols. (SQLite plans a
// row-value IN as one IN list per column and seeks their cross product,
// so there the condition is the rowids of a join that starts from the
// tuples, written as literal rows: run it with query, which passes it to
// SQLite as it is.)
func inTuples(tx *gorm.DB, table string, cols []string, tuples [][]any) (string, []any, error) {
	lhs := "(" + strings.Join(cols, ", ") + ")"
	if Dialect(tx) == migrations.SQLite {
		var sb strings.Builder
		var args []any
		sb.WriteString("rowid IN (SELECT t.rowid FROM (VALUES ")
		for i, t := range tuples {
			if len(t) != len(cols) {
				return "", nil, fmt.Errorf("in: tuple %d has %d values for %d columns", i, len(t), len(cols))
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j, v := range t {
				if j > 0 {
					sb.WriteString(", ")
				}
				p, err := writeLiteral(&sb, v)
				if err != nil {
					return "", nil, fmt.Errorf("in: tuple %d: %w", i, err)
				}
				if p != nil {
					args = append(args, p)
				}
			}
			sb.WriteByte(')')
		}
		sb.WriteString(") AS k CROSS JOIN " + table + " AS t ON ")
		for j, c := range cols {
			if j > 0 {
				sb.WriteString(" AND ")
			}
			fmt.Fprintf(&sb, "t.%s = k.column%d", c, j+1)
		}
		sb.WriteByte(')')
		return sb.String(), args, nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	rows := make([]string, len(tuples))
	var args []any
	for i, t := range tuples {
		rows[i] = row
		args = append(args, t...)
	}
	return lhs + " IN (" + strings.Join(rows, ", ") + ")", args, nil
}
