// Package cron parses Tencent Cloud SCF timer-trigger cron expressions and
// computes their next firing time.
//
// The SCF format has seven space-separated fields:
//
//	second minute hour day-of-month month day-of-week year
//
// for example "0 */5 * * * * *" (every five minutes). The legacy five-field
// form "minute hour day-of-month month day-of-week" is still accepted and
// means second 0 of every matching minute, any year.
//
// Field values: second and minute 0-59, hour 0-23, day 1-31, month 1-12 or
// JAN-DEC, week 0-6 or SUN-SAT (0 is Sunday), year 1970-2099. Each field
// accepts "*", lists "a,b", ranges "a-b" and steps "*/n", "a/n", "a-b/n".
// Day and week also accept "?" (no specific value); day accepts "L" (last day
// of the month), "LW" (last weekday of the month) and "nW" (weekday nearest
// day n); week accepts "nL" (last weekday n of the month) and "n#k" (k-th
// weekday n of the month). When both day and week restrict the date, a date
// matching either of them fires (as the SCF documentation specifies).
//
// Times are evaluated in the location of the time passed to Next; SCF
// evaluates timers in UTC+8 (see Location).
package cron

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Location is the time zone SCF evaluates timer triggers in (UTC+8, China
// Standard Time). It is a fixed zone so no tzdata is needed.
var Location = time.FixedZone("UTC+8", 8*60*60)

// MinYear and MaxYear bound the year field, as SCF documents.
const (
	MinYear = 1970
	MaxYear = 2099
)

// Schedule is a parsed cron expression. The zero value never fires.
type Schedule struct {
	expr string

	second, minute, hour, month, dom, dow uint64 // bit i set = value i allowed
	years                                 [MaxYear - MinYear + 1]bool

	domAny, dowAny bool // "*" or "?": the field does not restrict the date

	lastDay        bool     // L
	lastWeekday    bool     // LW
	nearestWeekday []int    // nW
	lastDOW        []int    // nL (weekday)
	nthDOW         [][2]int // n#k (weekday, k)
}

// String returns the expression the schedule was parsed from.
func (s *Schedule) String() string { return s.expr }

type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	fSecond = field{name: "second", min: 0, max: 59}
	fMinute = field{name: "minute", min: 0, max: 59}
	fHour   = field{name: "hour", min: 0, max: 23}
	fDay    = field{name: "day", min: 1, max: 31}
	fMonth  = field{name: "month", min: 1, max: 12, names: map[string]int{
		"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	}}
	fWeek = field{name: "week", min: 0, max: 6, names: map[string]int{
		"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6,
	}}
	fYear = field{name: "year", min: MinYear, max: MaxYear}
)

// Parse parses a 7-field SCF cron expression or a legacy 5-field one.
func Parse(expr string) (*Schedule, error) {
	fields := strings.Fields(expr)
	switch len(fields) {
	case 7:
	case 5:
		fields = append([]string{"0"}, fields...)
		fields = append(fields, "*")
	default:
		return nil, fmt.Errorf("cron %q: want 7 fields (second minute hour day month week year), such as \"0 */5 * * * * *\", or the legacy 5 fields; got %d", expr, len(fields))
	}
	s := &Schedule{expr: expr}
	var err error
	if s.second, err = parseBits(fSecond, fields[0]); err != nil {
		return nil, wrap(expr, err)
	}
	if s.minute, err = parseBits(fMinute, fields[1]); err != nil {
		return nil, wrap(expr, err)
	}
	if s.hour, err = parseBits(fHour, fields[2]); err != nil {
		return nil, wrap(expr, err)
	}
	if err = s.parseDay(fields[3]); err != nil {
		return nil, wrap(expr, err)
	}
	if s.month, err = parseBits(fMonth, fields[4]); err != nil {
		return nil, wrap(expr, err)
	}
	if err = s.parseWeek(fields[5]); err != nil {
		return nil, wrap(expr, err)
	}
	if err = s.parseYear(fields[6]); err != nil {
		return nil, wrap(expr, err)
	}
	if !s.canFire() {
		return nil, fmt.Errorf("cron %q: never fires (no such date)", expr)
	}
	return s, nil
}

// MustParse is Parse for expressions known to be valid (tests, constants); it panics on error.
func MustParse(expr string) *Schedule {
	s, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return s
}

func wrap(expr string, err error) error { return fmt.Errorf("cron %q: %w", expr, err) }

// parseBits parses a plain field (no special characters beyond , - * /).
func parseBits(f field, text string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(text, ",") {
		lo, hi, step, err := parseRange(f, part)
		if err != nil {
			return 0, err
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

// parseRange parses "*", "v", "a-b", each optionally followed by "/step".
func parseRange(f field, part string) (lo, hi, step int, err error) {
	if part == "" {
		return 0, 0, 0, fmt.Errorf("%s field: empty list item", f.name)
	}
	step = 1
	rng := part
	if i := strings.IndexByte(part, '/'); i >= 0 {
		rng = part[:i]
		step, err = strconv.Atoi(part[i+1:])
		if err != nil || step <= 0 {
			return 0, 0, 0, fmt.Errorf("%s field: step %q is not a positive integer", f.name, part[i+1:])
		}
	}
	switch {
	case rng == "*":
		lo, hi = f.min, f.max
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		if lo, err = f.value(a); err != nil {
			return 0, 0, 0, err
		}
		if hi, err = f.value(b); err != nil {
			return 0, 0, 0, err
		}
		if lo > hi {
			return 0, 0, 0, fmt.Errorf("%s field: range %q starts after it ends", f.name, rng)
		}
	default:
		if lo, err = f.value(rng); err != nil {
			return 0, 0, 0, err
		}
		hi = lo
		if step > 1 || strings.Contains(part, "/") {
			hi = f.max // "a/n": from a to the end, every n
		}
	}
	return lo, hi, step, nil
}

func (f field) value(text string) (int, error) {
	if v, ok := f.names[strings.ToUpper(text)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%s field: %q is neither a number %d-%d nor a name", f.name, text, f.min, f.max)
		}
		return 0, fmt.Errorf("%s field: %q is not a number %d-%d", f.name, text, f.min, f.max)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%s field: %d is out of range %d-%d", f.name, v, f.min, f.max)
	}
	return v, nil
}

func (s *Schedule) parseDay(text string) error {
	if text == "*" || text == "?" {
		s.domAny = true
		s.dom, _ = parseBits(fDay, "*")
		return nil
	}
	for _, part := range strings.Split(text, ",") {
		up := strings.ToUpper(part)
		switch {
		case up == "L":
			s.lastDay = true
		case up == "LW":
			s.lastWeekday = true
		case strings.HasSuffix(up, "W"):
			v, err := fDay.value(up[:len(up)-1])
			if err != nil {
				return err
			}
			s.nearestWeekday = append(s.nearestWeekday, v)
		case part == "?":
			return errors.New("day field: \"?\" must stand alone")
		default:
			bits, err := parseBits(fDay, part)
			if err != nil {
				return err
			}
			s.dom |= bits
		}
	}
	return nil
}

func (s *Schedule) parseWeek(text string) error {
	if text == "*" || text == "?" {
		s.dowAny = true
		s.dow, _ = parseBits(fWeek, "*")
		return nil
	}
	for _, part := range strings.Split(text, ",") {
		up := strings.ToUpper(part)
		switch {
		case strings.Contains(up, "#"):
			a, b, _ := strings.Cut(up, "#")
			wd, err := fWeek.value(a)
			if err != nil {
				return err
			}
			k, err := strconv.Atoi(b)
			if err != nil || k < 1 || k > 5 {
				return fmt.Errorf("week field: %q: the occurrence after # must be 1-5", part)
			}
			s.nthDOW = append(s.nthDOW, [2]int{wd, k})
		case len(up) > 1 && strings.HasSuffix(up, "L"):
			wd, err := fWeek.value(up[:len(up)-1])
			if err != nil {
				return err
			}
			s.lastDOW = append(s.lastDOW, wd)
		case part == "?":
			return errors.New("week field: \"?\" must stand alone")
		default:
			bits, err := parseBits(fWeek, part)
			if err != nil {
				return err
			}
			s.dow |= bits
		}
	}
	return nil
}

func (s *Schedule) parseYear(text string) error {
	for _, part := range strings.Split(text, ",") {
		lo, hi, step, err := parseRange(fYear, part)
		if err != nil {
			return err
		}
		for v := lo; v <= hi; v += step {
			s.years[v-MinYear] = true
		}
	}
	return nil
}

// canFire reports whether some date in the year range can match: it rejects
// expressions such as "0 0 0 31 2 ? *" (February 31st) up front.
func (s *Schedule) canFire() bool {
	if s.second == 0 || s.minute == 0 || s.hour == 0 || s.month == 0 {
		return false
	}
	if s.domAny && s.dowAny {
		return true
	}
	start := time.Date(MinYear, 1, 1, 0, 0, 0, 0, time.UTC)
	for y := MinYear; y <= MaxYear; y++ {
		if !s.years[y-MinYear] {
			continue
		}
		// Any 28-year span repeats the calendar; checking a few years after the
		// first allowed one is enough to find a matching day if one exists.
		for yy := y; yy <= MaxYear && yy < y+28; yy++ {
			if !s.years[yy-MinYear] {
				continue
			}
			for m := 1; m <= 12; m++ {
				if s.month&(1<<uint(m)) == 0 {
					continue
				}
				for d := 1; d <= daysIn(yy, time.Month(m)); d++ {
					if s.dayMatches(time.Date(yy, time.Month(m), d, 0, 0, 0, 0, start.Location())) {
						return true
					}
				}
			}
		}
		return false
	}
	return false
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayMatches applies the day-of-month and day-of-week rules to t's date.
func (s *Schedule) dayMatches(t time.Time) bool {
	domRestricted := !s.domAny
	dowRestricted := !s.dowAny
	switch {
	case domRestricted && dowRestricted:
		return s.domMatches(t) || s.dowMatches(t)
	case domRestricted:
		return s.domMatches(t)
	case dowRestricted:
		return s.dowMatches(t)
	default:
		return true
	}
}

func (s *Schedule) domMatches(t time.Time) bool {
	d := t.Day()
	if s.dom&(1<<uint(d)) != 0 {
		return true
	}
	last := daysIn(t.Year(), t.Month())
	if s.lastDay && d == last {
		return true
	}
	if s.lastWeekday && d == nearestWeekday(t.Year(), t.Month(), last) {
		return true
	}
	for _, n := range s.nearestWeekday {
		if n <= last && d == nearestWeekday(t.Year(), t.Month(), n) {
			return true
		}
	}
	return false
}

// nearestWeekday returns the Monday-Friday day nearest to day n of the month,
// never crossing into another month (Quartz semantics).
func nearestWeekday(year int, m time.Month, n int) int {
	last := daysIn(year, m)
	switch time.Date(year, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday
		}
		return n + 1
	default:
		return n
	}
}

func (s *Schedule) dowMatches(t time.Time) bool {
	wd := int(t.Weekday())
	if s.dow&(1<<uint(wd)) != 0 {
		return true
	}
	d := t.Day()
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
// the zero time when the schedule never fires again (the year range ends).
func (s *Schedule) Next(t time.Time) time.Time {
	if s == nil || s.second == 0 {
		return time.Time{}
	}
	loc := t.Location()
	t = t.Truncate(time.Second).Add(time.Second)
	// Each iteration advances at least one unit of the first mismatching
	// field, so the loop is bounded; the cap guards against surprises.
	for i := 0; i < 1_000_000; i++ {
		y := t.Year()
		if y > MaxYear {
			return time.Time{}
		}
		if y < MinYear || !s.years[y-MinYear] {
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if s.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(y, t.Month()+1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if !s.dayMatches(t) {
			t = time.Date(y, t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
			continue
		}
		if s.hour&(1<<uint(t.Hour())) == 0 {
			t = time.Date(y, t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
			continue
		}
		if s.minute&(1<<uint(t.Minute())) == 0 {
			t = time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute()+1, 0, 0, loc)
			continue
		}
		if s.second&(1<<uint(t.Second())) == 0 {
			t = t.Add(time.Second)
			continue
		}
		return t
	}
	return time.Time{}
}
