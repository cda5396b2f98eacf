package emulator

import (
	"net/http"
	"strings"
)

// validBucket reports whether name (and region) would make a bucket's COS
// host, the one rule for both.
func validBucket(name, region string) bool {
	return !strings.Contains(name, ".") && isCOSHost(name+".cos."+region+".myqcloud.com")
}

// serveCOSInspect serves /_emulator/cos/ (docs/emulator.md#inspection-api).
func (s *Server) serveCOSInspect(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/_emulator/cos"), "/")
	name, key, hasSlash := strings.Cut(rest, "/")
	switch {
	case name == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.COSBuckets())
	case name == "":
		inspectError(w, http.StatusMethodNotAllowed, "%s /_emulator/cos/: want GET (the buckets)", r.Method)
	case !validBucket(name, DefaultBucketRegion):
		inspectError(w, http.StatusBadRequest, "bucket %q: want <name>-<appid> in lowercase letters, digits and hyphens, such as examplebucket-1250000000", name)
	case key == "" && r.Method == http.MethodPut:
		region := r.URL.Query().Get("region")
		if region == "" {
			region = DefaultBucketRegion
		}
		if strings.Contains(region, ".") || !validBucket(name, region) {
			inspectError(w, http.StatusBadRequest, "region %q: want a Tencent Cloud region such as ap-guangzhou", region)
			return
		}
		b := Bucket{Name: name, Region: region}
		if s.CreateBucket(b) {
			writeJSON(w, http.StatusCreated, b)
			return
		}
		s.withBucket(Bucket{Name: name}, func(have *cosBucketRec) { b = have.Bucket })
		writeJSON(w, http.StatusOK, b)
	case key == "" && !hasSlash && r.Method == http.MethodDelete:
		if !s.DeleteBucket(name) {
			inspectError(w, http.StatusNotFound, "no bucket %s", name)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case key == "" && r.Method == http.MethodGet:
		objs, ok := s.COSObjects(name, r.URL.Query().Get("prefix"))
		if !ok {
			inspectError(w, http.StatusNotFound, "no bucket %s (create it with PUT /_emulator/cos/%s?region=<region>)", name, name)
			return
		}
		writeJSON(w, http.StatusOK, objs)
	case r.Method == http.MethodGet:
		o, ok := s.cosObject(Bucket{Name: name}, key)
		if !ok {
			inspectError(w, http.StatusNotFound, "no object %q in bucket %s", key, name)
			return
		}
		writeCOSObject(w, o)
	default:
		inspectError(w, http.StatusMethodNotAllowed, "%s %s: want GET (list or read), PUT (create the bucket) or DELETE (remove it)", r.Method, r.URL.Path)
	}
}
