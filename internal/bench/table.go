package bench

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Row is one figure of a benchmark table.
type Row struct {
	Metric string
	Value  string
	Unit   string
}

// Table is a benchmark's figures in the order they are printed.
type Table []Row

// Add appends a row; value is formatted with %v, or with format if it is not empty.
func (t *Table) Add(metric string, value any, format, unit string) {
	var v string
	if format != "" {
		v = fmt.Sprintf(format, value)
	} else {
		v = fmt.Sprint(value)
	}
	*t = append(*t, Row{Metric: metric, Value: v, Unit: unit})
}

// Format writes the table as plain text: a header, then one line per row, metric names
// left-aligned, values right-aligned, units left-aligned, columns two spaces apart, no trailing
// spaces.
func (t Table) Format(w io.Writer) error {
	rows := append(Table{{Metric: "metric", Value: "value", Unit: "unit"}}, t...)
	var wm, wv int
	for _, r := range rows {
		wm = max(wm, utf8.RuneCountInString(r.Metric))
		wv = max(wv, utf8.RuneCountInString(r.Value))
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.Metric)
		b.WriteString(strings.Repeat(" ", wm-utf8.RuneCountInString(r.Metric)+2))
		b.WriteString(strings.Repeat(" ", wv-utf8.RuneCountInString(r.Value)))
		b.WriteString(r.Value)
		if r.Unit != "" {
			b.WriteString("  ")
			b.WriteString(r.Unit)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
