package cossign_test

import (
	"os/exec"
	"strings"
	"testing"
)

const cosModule = "github.com/tencentyun/cos-go-sdk-v5"

// TestOnlyCOSCallersLinkCOS keeps this package's reason to exist: the
// functions that never call Cloud Infinite or COS do not link
// cos-go-sdk-v5 (sweep-tasks writes its report archive to COS).
func TestOnlyCOSCallersLinkCOS(t *testing.T) {
	tests := []struct {
		pkg     string
		wantCOS bool
	}{
		{"cancel-task", false},
		{"stop-transcription", false},
		{"sweep-tasks", true},
		{"cancel-live-audit", true},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "github.com/scf-janitor/scf-janitor/functions/"+tt.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			if got := strings.Contains(string(out), cosModule); got != tt.wantCOS {
				t.Errorf("functions/%s links %s: %v, want %v", tt.pkg, cosModule, got, tt.wantCOS)
			}
		})
	}
}
