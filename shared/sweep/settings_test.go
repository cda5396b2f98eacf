package sweep

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadSettingsDefaults(t *testing.T) {
	got, err := LoadSettings(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		MaxAge: 2 * time.Hour, Lookback: 72 * time.Hour, Services: []string{"ams"}, Statuses: []string{"PENDING", "RUNNING"},
		MaxCancels: 5000, Rate: 15, Concurrency: 8, PageSize: 100, SafetyMargin: 5 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadSettingsFromEnv(t *testing.T) {
	got, err := LoadSettings(envOf(map[string]string{
		"JANITOR_SWEEP_MAX_AGE": "30m", "JANITOR_SWEEP_LOOKBACK": "24h", "JANITOR_SWEEP_SERVICES": "AMS, vm",
		"JANITOR_SWEEP_STATUSES": "running", "JANITOR_SWEEP_TYPES": "live_audio,LIVE_VIDEO",
		"JANITOR_SWEEP_BIZTYPES": "a, b", "JANITOR_SWEEP_EXCLUDE_BIZTYPES": "b", "JANITOR_SWEEP_DRY_RUN": "true",
		"JANITOR_SWEEP_MAX_CANCELS": "10", "JANITOR_SWEEP_RATE": "19.5", "JANITOR_SWEEP_CONCURRENCY": "3",
		"JANITOR_SWEEP_PAGE_SIZE": "50", "JANITOR_SWEEP_SAFETY_MARGIN": "2s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		MaxAge: 30 * time.Minute, Lookback: 24 * time.Hour, Services: []string{"ams", "vm"}, Statuses: []string{"RUNNING"},
		Types: []string{"LIVE_AUDIO", "LIVE_VIDEO"}, BizTypes: []string{"a", "b"}, ExcludeBizTypes: []string{"b"}, DryRun: true,
		MaxCancels: 10, Rate: 19.5, Concurrency: 3, PageSize: 50, SafetyMargin: 2 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want []string // substrings of the error
	}{
		{map[string]string{"JANITOR_SWEEP_MAX_AGE": "abc"}, []string{`JANITOR_SWEEP_MAX_AGE="abc"`, "duration of at least 1m"}},
		{map[string]string{"JANITOR_SWEEP_MAX_AGE": "30s"}, []string{"JANITOR_SWEEP_MAX_AGE"}},
		{map[string]string{"JANITOR_SWEEP_SERVICES": "ams,trtc"}, []string{`JANITOR_SWEEP_SERVICES="ams,trtc"`, `"trtc" is not one of ams, vm`}},
		{map[string]string{"JANITOR_SWEEP_STATUSES": "FINISH"}, []string{"JANITOR_SWEEP_STATUSES", "PENDING, RUNNING"}},
		{map[string]string{"JANITOR_SWEEP_TYPES": "PODCAST"}, []string{"JANITOR_SWEEP_TYPES", "PODCAST"}},
		{map[string]string{"JANITOR_SWEEP_DRY_RUN": "maybe"}, []string{"JANITOR_SWEEP_DRY_RUN"}},
		{map[string]string{"JANITOR_SWEEP_MAX_CANCELS": "0"}, []string{"JANITOR_SWEEP_MAX_CANCELS"}},
		{map[string]string{"JANITOR_SWEEP_RATE": "25"}, []string{"JANITOR_SWEEP_RATE"}},
		{map[string]string{"JANITOR_SWEEP_CONCURRENCY": "x"}, []string{"JANITOR_SWEEP_CONCURRENCY"}},
		{map[string]string{"JANITOR_SWEEP_LOOKBACK": "1h"}, []string{"lookback (JANITOR_SWEEP_LOOKBACK) 1h0m0s must be longer than maxAge"}},
		{map[string]string{"JANITOR_SWEEP_BIZTYPES": "a", "JANITOR_SWEEP_EXCLUDE_BIZTYPES": "a"}, []string{"all excluded"}},
		{map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "soon"}, []string{`JANITOR_SWEEP_WARN_BEFORE="soon"`, "Go duration"}},
		{map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "-5m"}, []string{`JANITOR_SWEEP_WARN_BEFORE="-5m"`}},
		{map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "2h"}, []string{"warnBefore (JANITOR_SWEEP_WARN_BEFORE) 2h0m0s must be shorter than maxAge (JANITOR_SWEEP_MAX_AGE) 2h0m0s"}},
		{map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "3h", "JANITOR_SWEEP_MAX_AGE": "90m"}, []string{"warnBefore (JANITOR_SWEEP_WARN_BEFORE) 3h0m0s must be shorter than maxAge (JANITOR_SWEEP_MAX_AGE) 1h30m0s"}},
		{map[string]string{"JANITOR_NOTIFY_ON": "soon"}, []string{"JANITOR_NOTIFY_ON", "upcoming"}},
		// every bad variable is reported at once
		{map[string]string{"JANITOR_SWEEP_RATE": "0", "JANITOR_SWEEP_PAGE_SIZE": "5000"}, []string{"JANITOR_SWEEP_RATE", "JANITOR_SWEEP_PAGE_SIZE"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(keys(tc.env), ","), func(t *testing.T) {
			_, err := LoadSettings(envOf(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOverride(t *testing.T) {
	base := DefaultSettings()
	base.ExcludeBizTypes = []string{"keep"}
	got, err := base.Override([]byte(`{"maxAge":"30m","dryRun":true,"services":["ams","vm"],"statuses":"RUNNING",
		"types":["live_audio"],"bizTypes":["a"],"excludeBizTypes":[],"maxCancels":3,"rate":10,"concurrency":2,
		"pageSize":20,"safetyMargin":"1s","lookback":"6h"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		MaxAge: 30 * time.Minute, Lookback: 6 * time.Hour, Services: []string{"ams", "vm"}, Statuses: []string{"RUNNING"},
		Types: []string{"LIVE_AUDIO"}, BizTypes: []string{"a"}, DryRun: true,
		MaxCancels: 3, Rate: 10, Concurrency: 2, PageSize: 20, SafetyMargin: time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("override (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"keep"}, base.ExcludeBizTypes); diff != "" {
		t.Errorf("override changed the base settings: %s", diff)
	}
	for _, empty := range []string{"", "  ", "null", "{}"} {
		got, err := base.Override([]byte(empty))
		if err != nil || !cmp.Equal(got, base) {
			t.Errorf("Override(%q) = %+v, %v; want the base unchanged", empty, got, err)
		}
	}
}

func TestOverrideErrors(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`{"maxage":"30m"}`, []string{`unknown setting "maxage": did you mean "maxAge"?`}},
		{`{"JANITOR_SWEEP_DRY_RUN":true}`, []string{`did you mean "dryRun"?`}},
		{`{"key1":"test value 1"}`, []string{`unknown setting "key1"`, "known settings are maxAge, lookback"}},
		{`{"maxAge":30}`, []string{`override "maxAge"`, "Go duration"}},
		{`{"maxAge":"10s"}`, []string{`override "maxAge": "10s": want a Go duration of at least 1m0s`}},
		{`{"dryRun":"yes"}`, []string{`override "dryRun"`, "true or false"}},
		{`{"maxCancels":2.5}`, []string{`override "maxCancels"`, "whole number from 1 to"}},
		{`{"rate":21}`, []string{`override "rate"`, "0.1 to 20"}},
		{`{"services":["sms"]}`, []string{`override "services"`, `"sms" is not one of ams, vm`}},
		{`{"services":[]}`, []string{"services (JANITOR_SWEEP_SERVICES): want at least one"}},
		{`{"statuses":["CANCELLED"]}`, []string{`override "statuses"`}},
		{`{"types":[1]}`, []string{`override "types"`, "array of strings"}},
		{`{"maxAge":"4h","lookback":"3h"}`, []string{"must be longer than maxAge"}},
		{`{"warnBefore":"2h"}`, []string{"warnBefore (JANITOR_SWEEP_WARN_BEFORE) 2h0m0s must be shorter than maxAge (JANITOR_SWEEP_MAX_AGE) 2h0m0s"}},
		{`{"warnBefore":"30m","maxAge":"20m"}`, []string{"warnBefore (JANITOR_SWEEP_WARN_BEFORE) 30m0s must be shorter than maxAge (JANITOR_SWEEP_MAX_AGE) 20m0s"}},
		{`{"warnBefore":30}`, []string{`override "warnBefore"`, "Go duration"}},
		{`{"warnBefore":"-1m"}`, []string{`override "warnBefore"`}},
		{`{"notifyOn":["later"]}`, []string{`override "notifyOn"`, "upcoming"}},
		{`[1,2]`, []string{"must be a JSON object"}},
		{`"dryRun"`, []string{"must be a JSON object"}},
		{`{"dryRun":true`, []string{"must be a JSON object"}},
		{`{"bogus":1,"rate":"fast"}`, []string{`unknown setting "bogus"`, `override "rate"`}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := DefaultSettings().Override([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNotifyOverrides: a run may choose among the deployed notification URLs
// (none, one, several) and change when to notify; it may never add a URL
// (the function would sign with JANITOR_NOTIFY_SECRET for, or call, anyone
// who may invoke it) nor change the format. A refused URL is shown redacted.
func TestNotifyOverrides(t *testing.T) {
	const (
		wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=deployed-key"
		slack = "https://hooks.slack.com/services/T0/B0/deployed-secret"
		evil  = "https://attacker.example/collect/path-secret?token=evil-token"
	)
	deployed := DefaultSettings()
	deployed.NotifyURLs = []string{wecom, slack}
	for _, tc := range []struct {
		name string
		base Settings
		in   string
		urls []string // when accepted
		on   []string
		want []string // when refused: every one in the error
	}{
		{"one of the deployed", deployed, `{"notifyUrl":[` + q(slack) + `]}`, []string{slack}, nil, nil},
		{"both, as one string", deployed, `{"notifyUrl":` + q(slack+" , "+wecom) + `}`, []string{slack, wecom}, nil, nil},
		{"none this run", deployed, `{"notifyUrl":[]}`, nil, nil, nil},
		{"when to notify", deployed, `{"notifyOn":["always"]}`, []string{wecom, slack}, []string{"always"}, nil},
		{"another URL", deployed, `{"notifyUrl":` + q(evil) + `}`, nil, nil,
			[]string{`override "notifyUrl"`, "https://attacker.example is not one of the deployed notification URLs", "JANITOR_NOTIFY_URL"}},
		{"a deployed URL and another", deployed, `{"notifyUrl":[` + q(wecom) + `,` + q(evil) + `]}`, nil, nil,
			[]string{"https://attacker.example is not one of the deployed"}},
		{"a deployed host with another key", deployed, `{"notifyUrl":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=other-key"}`, nil, nil,
			[]string{"https://qyapi.weixin.qq.com is not one of the deployed"}},
		{"nothing deployed", DefaultSettings(), `{"notifyUrl":` + q(evil) + `}`, nil, nil,
			[]string{`override "notifyUrl"`, "no notification URL is deployed (JANITOR_NOTIFY_URL is empty)"}},
		{"an internal address", DefaultSettings(), `{"notifyUrl":"http://169.254.0.23/latest/meta-data"}`, nil, nil,
			[]string{"http://169.254.0.23"}},
		{"format", deployed, `{"notifyFormat":"json"}`, nil, nil,
			[]string{`override "notifyFormat"`, "JANITOR_NOTIFY_FORMAT", "not per run"}},
		{"secret", deployed, `{"notifySecret":"x"}`, nil, nil, []string{`unknown setting "notifySecret"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.base.Override([]byte(tc.in))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.NotifyURLs, tc.urls) || !slices.Equal(got.NotifyOn, tc.on) {
					t.Errorf("NotifyURLs %q, NotifyOn %q; want %q, %q", got.NotifyURLs, got.NotifyOn, tc.urls, tc.on)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: NotifyURLs %q, NotifyFormat %q", got.NotifyURLs, got.NotifyFormat)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{"deployed-key", "deployed-secret", "evil-token", "path-secret", "other-key", "meta-data"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q: %v", secret, err)
				}
			}
		})
	}
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestWarnBeforeSettings: the warning window is off by default, read from
// JANITOR_SWEEP_WARN_BEFORE or a run's warnBefore, and "0s" turns it off.
func TestWarnBeforeSettings(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		override string
		want     time.Duration
		notifyOn []string
	}{
		{"default off", nil, "", 0, nil},
		{"environment", map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "30m"}, "", 30 * time.Minute, nil},
		{"override", nil, `{"warnBefore":"1h59m"}`, 119 * time.Minute, nil},
		{"override turns it off", map[string]string{"JANITOR_SWEEP_WARN_BEFORE": "30m"}, `{"warnBefore":"0s"}`, 0, nil},
		{"longer max age", map[string]string{"JANITOR_SWEEP_MAX_AGE": "6h", "JANITOR_SWEEP_WARN_BEFORE": "5h"}, "", 5 * time.Hour, nil},
		{"notify on upcoming", map[string]string{"JANITOR_NOTIFY_ON": "Upcoming,failed"}, "", 0, []string{NotifyOnUpcoming, NotifyOnFailed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSettings(envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if s, err = s.Override([]byte(tc.override)); err != nil {
				t.Fatal(err)
			}
			if s.WarnBefore != tc.want || !slices.Equal(s.NotifyOn, tc.notifyOn) {
				t.Errorf("WarnBefore %s NotifyOn %v, want %s %v", s.WarnBefore, s.NotifyOn, tc.want, tc.notifyOn)
			}
		})
	}
}
