// Package cron parses SCF timer-trigger cron expressions, seven fields
// "second minute hour day month week year" (such as "0 */5 * * * * *") or
// the legacy five "minute hour day month week" (second 0, any year), and
// computes their next firing time. Fields take *, lists, ranges and steps;
// names JAN-DEC and SUN-SAT (0 is Sunday); day and week take ?, day takes L,
// LW and nW, week takes nL and n#k. A date matching either a restricted day
// or a restricted week fires (SCF's timer trigger documentation). Times
// are evaluated in the location of the time given to Next (SCF: Location).
package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Location is the time zone SCF evaluates timer triggers in (UTC+8), fixed
// so no tzdata is needed.
var Location = time.FixedZone("UTC+8", 8*60*60)

// MinYear and MaxYear bound the year field, as SCF documents.
const (
	MinYear = 1970
	MaxYear = 2099
)

// bits is a set of field values (year: offset by MinYear).
type bits [3]uint64

func (b *bits) set(v int)     { b[v/64] |= 1 << (v % 64) }
func (b bits) has(v int) bool { return v >= 0 && v < 192 && b[v/64]&(1<<(v%64)) != 0 }

// Schedule is a parsed cron expression. The zero value never fires.
type Schedule struct {
	expr                                        string
	second, minute, hour, dom, month, dow, year bits
	domAny, dowAny                              bool     // "*" or "?": the field does not restrict the date
	lastDay, lastWeekday                        bool     // L, LW
	nearestWeekday, lastDOW                     []int    // nW (day), nL (weekday)
	nthDOW                                      [][2]int // n#k (weekday, k)
}

// String returns the expression the schedule was parsed from.
func (s *Schedule) String() string { return s.expr }

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
}

var fields = [7]field{
	{name: "second", max: 59}, {name: "minute", max: 59}, {name: "hour", max: 23}, {name: "day", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: strings.Fields("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")},
	{name: "week", max: 6, names: strings.Fields("SUN MON TUE WED THU FRI SAT")},
	{name: "year", min: MinYear, max: MaxYear},
}

// Parse parses a 7-field SCF cron expression or a legacy 5-field one.
func Parse(expr string) (*Schedule, error) {
	parts := strings.Fields(expr)
	switch len(parts) {
	case 7:
	case 5:
		parts = append(append([]string{"0"}, parts...), "*")
	default:
		return nil, fmt.Errorf("cron %q: want 7 fields (second minute hour day month week year), such as \"0 */5 * * * * *\", or the legacy 5 fields; got %d", expr, len(parts))
	}
	s := &Schedule{expr: expr}
	dst := []*bits{&s.second, &s.minute, &s.hour, &s.dom, &s.month, &s.dow, &s.year}
	for i, text := range parts {
		var err error
		if i == 3 || i == 5 {
			err = s.parseDate(i, text)
		} else {
			err = fields[i].parse(text, dst[i])
		}
		if err != nil {
			return nil, fmt.Errorf("cron %q: %w", expr, err)
		}
	}
	if s.Next(time.Date(MinYear-1, 12, 31, 23, 59, 59, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("cron %q: never fires (no such date)", expr)
	}
	return s, nil
}

// MustParse is Parse for expressions known to be valid; it panics on error.
func MustParse(expr string) *Schedule {
	s, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return s
}

// parse adds to b a list of "*", "v", "a-b", each optionally "/step".
func (f field) parse(text string, b *bits) error {
	off := 0
	if f.name == "year" {
		off = MinYear
	}
	for _, part := range strings.Split(text, ",") {
		if part == "" {
			return fmt.Errorf("%s field: empty list item", f.name)
		}
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepText); err != nil || step <= 0 {
				return fmt.Errorf("%s field: step %q is not a positive integer", f.name, stepText)
			}
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			a, z, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return err
			}
			switch {
			case isRange:
				if hi, err = f.value(z); err != nil {
					return err
				}
				if lo > hi {
					return fmt.Errorf("%s field: range %q starts after it ends", f.name, rng)
				}
			case !hasStep:
				hi = lo // "a/n" runs from a to the end
			}
		}
		for v := lo; v <= hi; v += step {
			b.set(v - off)
		}
	}
	return nil
}

func (f field) value(text string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(n, text) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(text)
	switch {
	case err != nil && f.names != nil:
		return 0, fmt.Errorf("%s field: %q is neither a number %d-%d nor a name", f.name, text, f.min, f.max)
	case err != nil:
		return 0, fmt.Errorf("%s field: %q is not a number %d-%d", f.name, text, f.min, f.max)
	case v < f.min || v > f.max:
		return 0, fmt.Errorf("%s field: %d is out of range %d-%d", f.name, v, f.min, f.max)
	}
	return v, nil
}

// parseDate parses the day (i = 3) or week (i = 5) field: "*" or "?" alone
// (any day), else a list of values and the field's special items.
func (s *Schedule) parseDate(i int, text string) error {
	f, b, any := fields[i], &s.dom, &s.domAny
	if i == 5 {
		b, any = &s.dow, &s.dowAny
	}
	if text == "*" || text == "?" {
		*any = true
		return f.parse("*", b)
	}
	for _, part := range strings.Split(text, ",") {
		up := strings.ToUpper(part)
		wd, nth, isNth := strings.Cut(up, "#")
		var v int
		var err error
		switch {
		case part == "?":
			return fmt.Errorf("%s field: \"?\" must stand alone", f.name)
		case i == 3 && up == "L":
			s.lastDay = true
		case i == 3 && up == "LW":
			s.lastWeekday = true
		case i == 3 && strings.HasSuffix(up, "W"):
			v, err = f.value(up[:len(up)-1])
			s.nearestWeekday = append(s.nearestWeekday, v)
		case i == 5 && isNth:
			if v, err = f.value(wd); err == nil {
				k, kerr := strconv.Atoi(nth)
				if kerr != nil || k < 1 || k > 5 {
					return fmt.Errorf("week field: %q: the occurrence after # must be 1-5", part)
				}
				s.nthDOW = append(s.nthDOW, [2]int{v, k})
			}
		case i == 5 && len(up) > 1 && strings.HasSuffix(up, "L"):
			v, err = f.value(up[:len(up)-1])
			s.lastDOW = append(s.lastDOW, v)
		default:
			err = f.parse(part, b)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayMatches applies the day-of-month and day-of-week rules to t's date:
// with both restricted, either may match.
func (s *Schedule) dayMatches(t time.Time) bool {
	switch {
	case !s.domAny && !s.dowAny:
		return s.domMatches(t) || s.dowMatches(t)
	case !s.domAny:
		return s.domMatches(t)
	case !s.dowAny:
		return s.dowMatches(t)
	}
	return true
}

func (s *Schedule) domMatches(t time.Time) bool {
	d, last := t.Day(), daysIn(t.Year(), t.Month())
	if s.dom.has(d) || (s.lastDay && d == last) || (s.lastWeekday && d == nearestWeekday(t.Year(), t.Month(), last)) {
		return true
	}
	for _, n := range s.nearestWeekday {
		if n <= last && d == nearestWeekday(t.Year(), t.Month(), n) {
			return true
		}
	}
	return false
}

// nearestWeekday is the Monday-Friday day nearest to day n of the month,
// never in another month (Quartz semantics).
func nearestWeekday(year int, m time.Month, n int) int {
	switch time.Date(year, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == daysIn(year, m) {
			return n - 2 // Friday
		}
		return n + 1
	}
	return n
}

func (s *Schedule) dowMatches(t time.Time) bool {
	wd, d := int(t.Weekday()), t.Day()
	if s.dow.has(wd) {
		return true
	}
	for _, w := range s.lastDOW {
		if w == wd && d+7 > daysIn(t.Year(), t.Month()) {
			return true
		}
	}
	for _, nk := range s.nthDOW {
		if nk[0] == wd && (d-1)/7+1 == nk[1] {
			return true
		}
	}
	return false
}

// Next returns the first firing time strictly after t, in t's location, or
// the zero time when the schedule never fires again.
func (s *Schedule) Next(t time.Time) time.Time {
	if s == nil || s.second == (bits{}) {
		return time.Time{}
	}
	loc := t.Location()
	t = t.Truncate(time.Second).Add(time.Second)
	// Each step advances the first mismatching field; the cap guards the loop.
	for range 1_000_000 {
		y, mo, d := t.Date()
		switch {
		case y > MaxYear:
			return time.Time{}
		case !s.year.has(y - MinYear):
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
		case !s.month.has(int(mo)):
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, loc)
		case !s.dayMatches(t):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, loc)
		case !s.hour.has(t.Hour()):
			t = time.Date(y, mo, d, t.Hour()+1, 0, 0, 0, loc)
		case !s.minute.has(t.Minute()):
			t = time.Date(y, mo, d, t.Hour(), t.Minute()+1, 0, 0, loc)
		case !s.second.has(t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}
