package cron

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, Location)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	tests := []struct {
		expr, from string
		want       []string // successive firing times
	}{
		{"0 */5 * * * * *", "2026-11-22 03:19:53", []string{"2026-11-22 03:20:00", "2026-11-22 03:25:00", "2026-11-22 03:30:00"}},
		{"0 */5 * * * * *", "2026-11-22 03:20:00", []string{"2026-11-22 03:25:00"}},
		{"*/5 * * * * * *", "2026-11-22 03:19:58", []string{"2026-11-22 03:20:00", "2026-11-22 03:20:05"}},
		{"*/20 * * * * * *", "2026-11-22 03:19:41", []string{"2026-11-22 03:20:00", "2026-11-22 03:20:20", "2026-11-22 03:20:40", "2026-11-22 03:21:00"}},
		{"0 0 2 1 * * *", "2026-11-22 03:19:53", []string{"2026-12-01 02:00:00", "2027-01-01 02:00:00"}},
		{"0 15 10 * * MON-FRI *", "2026-11-20 11:00:00", []string{"2026-11-23 10:15:00", "2026-11-24 10:15:00"}}, // Fri -> Mon
		{"0 0 10,14,16 * * * *", "2026-11-22 10:00:00", []string{"2026-11-22 14:00:00", "2026-11-22 16:00:00", "2026-11-23 10:00:00"}},
		{"0 */30 9-17 * * * *", "2026-11-22 17:30:00", []string{"2026-11-23 09:00:00"}},
		{"0 0 12 * * WED *", "2026-11-22 00:00:00", []string{"2026-11-25 12:00:00"}},
		{"0 1/10 * * * * *", "2026-11-22 03:00:00", []string{"2026-11-22 03:01:00", "2026-11-22 03:11:00"}},
		{"0 10-40/15 * * * * *", "2026-11-22 03:00:00", []string{"2026-11-22 03:10:00", "2026-11-22 03:25:00", "2026-11-22 03:40:00", "2026-11-22 04:10:00"}},
		{"0 0 0 29 2 ? *", "2026-01-01 00:00:00", []string{"2028-02-29 00:00:00", "2032-02-29 00:00:00"}},
		{"0 0 0 L * ? *", "2026-02-10 00:00:00", []string{"2026-02-28 00:00:00", "2026-03-31 00:00:00"}},
		{"0 0 0 LW * ? *", "2026-05-01 00:00:00", []string{"2026-05-29 00:00:00"}},                                                      // May 31 2026 is a Sunday
		{"0 0 0 15W * ? *", "2026-11-01 00:00:00", []string{"2026-11-16 00:00:00"}},                                                     // Nov 15 2026 is a Sunday
		{"0 0 0 1W * ? *", "2026-08-01 00:00:00", []string{"2026-08-03 00:00:00"}},                                                      // Aug 1 2026 is a Saturday: Monday 3rd
		{"0 0 0 ? * 5L *", "2026-11-01 00:00:00", []string{"2026-11-27 00:00:00"}},                                                      // last Friday
		{"0 0 0 ? * MON#2 *", "2026-11-01 00:00:00", []string{"2026-11-09 00:00:00", "2026-12-14 00:00:00"}},                            // second Monday
		{"0 0 0 L,15 * ? *", "2026-11-01 00:00:00", []string{"2026-11-15 00:00:00", "2026-11-30 00:00:00", "2026-12-15 00:00:00"}},      // special and plain items in one list
		{"0 0 0 ? * MON#1,FRI *", "2026-11-01 00:00:00", []string{"2026-11-02 00:00:00", "2026-11-06 00:00:00", "2026-11-13 00:00:00"}}, // first Monday, every Friday
		{"0 0 0 1 * MON *", "2026-11-25 00:00:00", []string{"2026-11-30 00:00:00", "2026-12-01 00:00:00", "2026-12-07 00:00:00"}},       // day OR week
		{"0 0 0 1 1 * 2030", "2026-01-01 00:00:00", []string{"2030-01-01 00:00:00", ""}},
		{"0 0 0 1 jan ? 2027-2028", "2026-06-01 00:00:00", []string{"2027-01-01 00:00:00", "2028-01-01 00:00:00", ""}},
		// legacy 5-field form: minute hour day month week
		{"*/5 * * * *", "2026-11-22 03:19:53", []string{"2026-11-22 03:20:00", "2026-11-22 03:25:00"}},
		{"30 2 * * *", "2026-11-22 03:19:53", []string{"2026-11-23 02:30:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr+"@"+tc.from, func(t *testing.T) {
			s, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cur := at(t, tc.from)
			for i, w := range tc.want {
				got := s.Next(cur)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("step %d: Next(%v) = %v, want never", i, cur, got)
					}
					return
				}
				if want := at(t, w); !got.Equal(want) {
					t.Fatalf("step %d: Next(%v) = %v, want %v", i, cur, got, want)
				}
				cur = got
			}
		})
	}
}

func TestNextKeepsLocation(t *testing.T) {
	s := MustParse("0 0 2 * * * *")
	from := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) // 08:00 in UTC+8
	got := s.Next(from.In(Location))
	if want := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v (02:00 UTC+8)", got, want)
	}
	if got.Location() != Location {
		t.Fatalf("location %v, want %v", got.Location(), Location)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, wantErr string }{
		{"", "want 7 fields"},
		{"* * * * * *", "want 7 fields"},
		{"0 */5 * * * * * *", "want 7 fields"},
		{"60 * * * * * *", "second field: 60 is out of range 0-59"},
		{"0 60 * * * * *", "minute field: 60 is out of range"},
		{"0 0 24 * * * *", "hour field: 24 is out of range 0-23"},
		{"0 0 0 0 * * *", "day field: 0 is out of range 1-31"},
		{"0 0 0 * 13 * *", "month field: 13 is out of range 1-12"},
		{"0 0 0 * FOO * *", "month field: \"FOO\" is neither a number"},
		{"0 0 0 * * 7 *", "week field: 7 is out of range 0-6"},
		{"0 0 0 * * * 1969", "year field: 1969 is out of range 1970-2099"},
		{"0 0 0 * * * 2100", "year field: 2100 is out of range"},
		{"0 */0 * * * * *", "step \"0\" is not a positive integer"},
		{"0 */x * * * * *", "step \"x\" is not a positive integer"},
		{"0 30-10 * * * * *", "range \"30-10\" starts after it ends"},
		{"0 1,,2 * * * * *", "empty list item"},
		{"0 0 0 31 2 ? *", "never fires"},
		{"0 0 0 ? * MON#6 *", "occurrence after # must be 1-5"},
		{"a b c d e", "minute field"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tc.expr, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) error %q, want it to contain %q", tc.expr, err, tc.wantErr)
			}
		})
	}
}

func TestString(t *testing.T) {
	if got := MustParse("0 */5 * * * * *").String(); got != "0 */5 * * * * *" {
		t.Fatalf("String() = %q", got)
	}
}

func TestNilScheduleNeverFires(t *testing.T) {
	var s *Schedule
	if got := s.Next(time.Now()); !got.IsZero() {
		t.Fatalf("nil schedule fired at %v", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"0 */5 * * * * *", "*/5 * * * *", "0 0 0 L * ? *", "0 0 0 ? * 5L *", "0 0 0 ? * MON#2 *", "0 0 0 15W * ? *", "1-2/3 * * * * * 2030"} {
		f.Add(seed)
	}
	from := time.Date(2026, 11, 22, 3, 19, 53, 0, Location)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		next := s.Next(from)
		if !next.IsZero() && !next.After(from) {
			t.Fatalf("Next(%v) = %v, not after", from, next)
		}
	})
}

func ExampleSchedule_Next() {
	s, err := Parse("0 */5 * * * * *") // every five minutes
	if err != nil {
		panic(err)
	}
	from := time.Date(2026, 11, 22, 3, 19, 53, 0, Location)
	fmt.Println(s.Next(from).Format(time.DateTime))
	// Output: 2026-11-22 03:20:00
}
