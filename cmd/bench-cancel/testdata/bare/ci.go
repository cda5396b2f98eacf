//go:build bareci

package main

import (
	"context"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func init() {
	cancelLiveAudit = func(ctx context.Context, cred tcapi.Credentials, lim *tcapi.Limiters, id string) (any, error) {
		c, err := tcapi.NewCI(cred, tcapi.CIOptions{Bucket: "examplebucket-1250000000", Region: "ap-beijing",
			Endpoint: scf.Getenv(ctx, "JANITOR_CI_ENDPOINT"), Limiters: lim, Signer: cossign.Transport})
		if err != nil {
			return nil, err
		}
		return c.CancelLiveAudit(ctx, id)
	}
}
