package emulator

import (
	"context"
	"net/http"
	"path"
	"strings"
)

// routes is what the emulator serves; each surface answers a wrong method or
// path with its own error, never ServeMux's plain text.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	s.routeAPI3(mux)
	s.routeCI(mux)
	s.routeInspect(mux)
	s.routeNotifications(mux)
	s.routeCOSInspect(mux)
	return mux
}

func (s *Server) routeCOSInspect(mux *http.ServeMux) {
	for _, p := range []string{"/_emulator/cos", "/_emulator/cos/"} {
		mux.HandleFunc(p, s.inspectHandler(s.serveCOSInspect))
	}
}

// routeAPI3 serves API 3.0 on every other path, any method (ServeMux rejects
// "POST /" beside a method-less "/_emulator/").
func (s *Server) routeAPI3(mux *http.ServeMux) {
	for _, p := range []string{"/", "/video", "/_emulator"} {
		mux.HandleFunc(p, s.serveAPI3AnyMethod)
	}
}

func (s *Server) routeCI(mux *http.ServeMux) {
	mux.HandleFunc("POST /video/auditing", s.ciAction("ci.CreateAuditing", (*Server).ciCreateAuditing))
	mux.HandleFunc("GET /video/auditing/{jobId...}", notHead(s.ciAction("ci.GetAuditing", (*Server).ciGetAuditing), s.ciMethodNotAllowed))
	mux.HandleFunc("POST /video/cancel_auditing/{jobId...}", s.ciAction("ci.CancelAuditing", (*Server).ciCancelAuditing))
	mux.HandleFunc("/video/auditing", s.ciMethodNotAllowed)
	mux.HandleFunc("/video/auditing/", s.ciMethodNotAllowed)
	mux.HandleFunc("/video/cancel_auditing/", s.ciMethodNotAllowed)
	mux.HandleFunc("/video/cancel_auditing", s.ciNotFound)
	mux.HandleFunc("/video/", s.ciNotFound)
}

func (s *Server) routeInspect(mux *http.ServeMux) {
	mux.HandleFunc("GET /_emulator/{$}", s.inspectHandler(notHead(s.inspectIndex, inspectNotFound)))
	mux.HandleFunc("/_emulator/", s.inspectHandler(inspectNotFound))
	ep := func(p string, routes ...route) { s.endpoint(mux, p, inspectNotAllowed, routes...) }
	ep("/_emulator/tasks", route{"GET", s.inspectTasks}, route{"POST", s.inspectAddTasks})
	ep("/_emulator/live-jobs", route{"GET", listing(s.LiveJobs)}, route{"POST", s.inspectAddLiveJobs})
	ep("/_emulator/transcriptions", route{"GET", listing(s.Transcriptions)}, route{"POST", s.inspectAddTranscriptions})
	ep("/_emulator/stats", route{"GET", s.inspectStats})
	ep("/_emulator/stats/reset", route{"POST", s.inspectResetStats})
	ep("/_emulator/faults", route{"GET", s.inspectFaults}, route{"PUT", s.inspectSetFaults})
	ep("/_emulator/demo", route{"POST", s.inspectLoadDemo})
	ep("/_emulator/accounts", route{"POST", s.inspectAddAccount})
	ep("/_emulator/role-credentials", route{"POST", s.inspectRoleCredentials})
	// The control plane's endpoints answer another method with their own message.
	cp := func(p string, routes ...route) { s.endpoint(mux, p, controlNotSupported, routes...) }
	cp("/_emulator/functions", route{"GET", listing(s.Functions)})
	cp("/_emulator/roles", route{"GET", listing(s.Roles)})
	cp("/_emulator/policies", route{"GET", listing(s.Policies)})
	cp("/_emulator/fail-next", route{"POST", s.inspectFailNext})
}

func (s *Server) routeNotifications(mux *http.ServeMux) {
	for _, p := range []string{"/_emulator/notifications", "/_emulator/notifications/"} {
		mux.HandleFunc("GET "+p, s.notificationsHandler(notHead(s.listNotifications, notificationsNotAllowed)))
		mux.HandleFunc("POST "+p, s.notificationsHandler(s.receiveNotification))
		mux.HandleFunc("DELETE "+p, s.notificationsHandler(s.clearNotifications))
		mux.HandleFunc(p, s.notificationsHandler(notificationsNotAllowed))
	}
}

type route struct {
	method string
	h      http.HandlerFunc
}

// endpoint registers p and p + "/": each route, and notAllowed for other methods.
func (s *Server) endpoint(mux *http.ServeMux, p string, notAllowed func(path, allow string) http.HandlerFunc, routes ...route) {
	methods := make([]string, 0, len(routes))
	for _, rt := range routes {
		methods = append(methods, rt.method)
	}
	other := s.inspectHandler(notAllowed(p, strings.Join(methods, ", ")))
	for _, pat := range []string{p, p + "/{$}"} {
		for _, rt := range routes {
			h := rt.h
			if rt.method == http.MethodGet {
				h = notHead(h, other)
			}
			mux.HandleFunc(rt.method+" "+pat, s.inspectHandler(h))
		}
		mux.HandleFunc(pat, other)
	}
}

// notHead is h for GET and other for HEAD (which a "GET" pattern matches too).
func notHead(h, other http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			other(w, r)
			return
		}
		h(w, r)
	}
}

type reqInfoKey struct{}

func withReqInfo(r *http.Request, info *reqInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
}

func requestInfo(r *http.Request) *reqInfo {
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return info
	}
	return &reqInfo{}
}

func (s *Server) inspectHandler(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestInfo(r).action = "emulator"
		h(w, r)
	}
}

func (s *Server) notificationsHandler(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestInfo(r).action = "notifications"
		h(w, r)
	}
}

// routable reports whether ServeMux would route r without a redirect.
func routable(r *http.Request) bool {
	if r.Method == http.MethodConnect || r.RequestURI == "*" {
		return false
	}
	p := r.URL.EscapedPath()
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// serveUnroutable answers a request ServeMux would redirect (its path is not
// clean) by the route of its clean leading segments (at most two) and a
// placeholder; a wildcard takes the rest of the path unchanged.
func (s *Server) serveUnroutable(w http.ResponseWriter, r *http.Request) {
	probe := ""
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	for _, seg := range segs[:min(2, len(segs)-1)] {
		if seg == "" || seg == "." || seg == ".." {
			break
		}
		probe += "/" + seg
	}
	pr := r.Clone(r.Context())
	pr.URL.Path, pr.URL.RawPath = probe+"/x", ""
	h, pattern := s.mux.Handler(pr)
	if strings.HasPrefix(pattern, "/_emulator/cos") { // no unclean bucket or object path
		h = s.inspectHandler(inspectNotFound)
	}
	if _, wild, ok := strings.Cut(pattern, "{"); ok {
		r.SetPathValue(strings.TrimSuffix(wild, "...}"), r.URL.Path[len(probe)+1:])
	}
	h.ServeHTTP(w, r)
}

func listing[T any](list func() []T) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, list()) }
}
