package cancel

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// CheckEnv returns a check of a cancel function's environment with the
// rules the function applies when it handles a request: JANITOR_WEBHOOK_AUTH,
// the common contract (config.LoadBase: endpoints and log level) and the
// function's own defaults (the CI bucket and region, the TRTC SdkAppId and
// region). A deploy runs it so a value the function would refuse on every
// request fails before deploying. Values are never part of the errors
// (a secret may have been pasted into the wrong variable). It returns nil
// for a function that is not one of the cancel functions.
func CheckEnv(function string) func(getenv config.Getenv) error {
	var own []envRule
	switch function {
	case FunctionCancelTask:
	case FunctionCancelLiveAudit:
		own = []envRule{ciBucketRule, ciRegionRule}
	case FunctionStopTranscription:
		own = []envRule{trtcSdkAppIDRule, trtcRegionRule}
	default:
		return nil
	}
	return func(getenv config.Getenv) error {
		var errs []error
		if _, err := config.Enum(getenv, EnvWebhookAuth, "signature", "signature", "none"); err != nil {
			errs = append(errs, fmt.Errorf("%s is not valid (value not shown): want signature (the default) or none", EnvWebhookAuth))
		}
		if _, err := config.LoadBase(getenv); err != nil {
			errs = append(errs, err)
		}
		for _, r := range own {
			if v := strings.TrimSpace(getenv(r.env)); v != "" && !r.valid(v) {
				errs = append(errs, fmt.Errorf("%s is not valid (value not shown): want %s", r.env, r.want))
			}
		}
		return errors.Join(errs...)
	}
}

// envRule is what a function accepts in one of its default settings.
type envRule struct {
	env   string
	valid func(string) bool
	want  string
}

var (
	ciBucketRule     = envRule{EnvCIBucket, validBucket, "a COS bucket name with its APPID, such as examplebucket-1250000000"}
	ciRegionRule     = envRule{EnvCIRegion, validRegion, "the bucket's region, such as ap-beijing"}
	trtcSdkAppIDRule = envRule{EnvTRTCSdkAppID, func(s string) bool { _, ok := parsePositive(s); return ok },
		"the positive SDKAppID of a TRTC application, such as 1400000000"}
	trtcRegionRule = envRule{EnvTRTCRegion, func(s string) bool { return slices.Contains(tcapi.TranscriptionRegions, s) },
		"a region that serves cloud transcription: one of " + strings.Join(tcapi.TranscriptionRegions, ", ")}
)
