package sweep

import (
	"context"
	"errors"

	"github.com/scf-janitor/scf-janitor/shared/config"
)

// CheckEnv applies to an environment the rules Handle applies to it before
// sweeping (LoadSettings, the common contract of config.LoadBase, the
// account endpoints), so a deploy can refuse a value the function would
// refuse on every run. Credentials are not checked (SCF supplies them per
// invocation). JANITOR_LOG_LEVEL is checked too: the function only warns
// about it and logs at info, which hides the typo.
func CheckEnv(getenv config.Getenv) error {
	var errs []error
	if _, err := LoadSettings(getenv); err != nil {
		errs = append(errs, err)
	}
	if _, err := config.LoadBase(getenv); err != nil {
		errs = append(errs, err)
	}
	if _, err := loadOrgEnv(context.Background(), getenv); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
