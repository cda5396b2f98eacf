package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// MaxNotifications is how many notifications the sink keeps (docs/emulator.md#inspection-api).
const MaxNotifications = 1000

// Notification is one request the sink received (a non-JSON Body as a string).
type Notification struct {
	ReceivedAt        time.Time
	Path, ContentType string
	Signature         string `json:",omitempty"`
	Body              json.RawMessage
}

type notificationSink struct {
	mu   sync.Mutex
	list []Notification
}

// Notifications returns what the sink received, oldest first.
func (s *Server) Notifications() []Notification {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	return append([]Notification{}, s.sink.list...)
}

func (s *Server) listNotifications(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Notifications())
}

func (s *Server) clearNotifications(w http.ResponseWriter, _ *http.Request) {
	s.sink.mu.Lock()
	s.sink.list = nil
	s.sink.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) receiveNotification(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		inspectError(w, http.StatusRequestEntityTooLarge, "notification larger than 1 MiB")
		return
	}
	body := json.RawMessage(b)
	if !json.Valid(b) {
		body, _ = json.Marshal(string(b))
	}
	n := Notification{ReceivedAt: time.Now().UTC(), Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
		Signature: r.Header.Get("X-Janitor-Signature"), Body: body}
	s.sink.mu.Lock()
	s.sink.list = append(s.sink.list, n)
	if len(s.sink.list) > MaxNotifications {
		s.sink.list = s.sink.list[len(s.sink.list)-MaxNotifications:]
	}
	s.sink.mu.Unlock()
	// Answer like a WeCom robot, so every format's sender sees success.
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

func notificationsNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, POST, DELETE")
	inspectError(w, http.StatusMethodNotAllowed, "use GET to list, POST to send, DELETE to clear")
}
