package emulator

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// DemoStaleAge is the age beyond which LoadDemo's unfinished tasks, live jobs
// and transcriptions are "stale" (a sweeper with a 2h max age should end
// them); younger unfinished ones must be left alone.
const DemoStaleAge = 2 * time.Hour

// LoadDemo adds a realistic data set relative to the current clock: 290 AMS
// and VM tasks of every type with ages from a minute to four days (some
// older than DescribeTasks' default 3-day window), 12 CI live jobs and 9 TRTC
// transcriptions (SdkAppId 1400000000, mostly ap-guangzhou). It includes
// stale PENDING/RUNNING tasks (Stuck, so they never finish by themselves),
// LIVE_AUDIO/LIVE_VIDEO tasks, live jobs and transcriptions older than
// DemoStaleAge, and young unfinished ones on both sides of that line. The
// data depend only on Options.Seed and the clock's reading at the call, so
// the same seed and time give the same set, ids included.
func (s *Server) LoadDemo() {
	now := s.now()
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), 0xdea0))
	hexID := func(prefix string, n int) string {
		out := prefix
		for len(out) < len(prefix)+n {
			out += fmt.Sprintf("%016x", rng.Uint64())
		}
		return out[:len(prefix)+n]
	}
	age := func(min, max time.Duration) time.Duration {
		return min + time.Duration(rng.Int64N(int64(max-min)))
	}
	type group struct {
		service, typ string
		n            int
		bizTypes     []string
	}
	groups := []group{
		{"ams", TypeAudio, 120, []string{"default", "chat", "game_voice"}},
		{"ams", TypeLiveAudio, 40, []string{"default", "live_room"}},
		{"vm", TypeVideo, 100, []string{"default", "short_video"}},
		{"vm", TypeLiveVideo, 30, []string{"default", "live_show"}},
	}
	for _, g := range groups {
		for i := 0; i < g.n; i++ {
			t := Task{Service: g.service, Type: g.typ, BizType: g.bizTypes[rng.IntN(len(g.bizTypes))],
				DataId: fmt.Sprintf("demo-%s-%s-%03d", g.service, g.typ, i)}
			t.Name = t.DataId
			prefix := "at-"
			if g.service == "vm" {
				prefix = "vt-"
			}
			t.TaskId = hexID(prefix, 24)
			old := rng.Float64() < 0.7
			var a time.Duration
			if old {
				a = age(DemoStaleAge+time.Minute, 96*time.Hour)
			} else {
				a = age(time.Minute, DemoStaleAge-time.Minute)
			}
			t.CreatedAt = now.Add(-a).Truncate(time.Millisecond)
			p := rng.Float64()
			if isLive(g.typ) {
				// Live streams never finish: old RUNNING ones are what a sweeper
				// must cancel; young RUNNING ones must be left alone.
				switch {
				case p < 0.55:
					t.Status = StatusRunning
				case p < 0.65:
					t.Status, t.Stuck = StatusPending, true
				case p < 0.9:
					t.Status = StatusCancelled
				default:
					t.Status = StatusError
				}
			} else {
				switch {
				case p < 0.6:
					t.Status = StatusFinish
					t.Suggestion = suggestions[rng.IntN(len(suggestions))]
				case p < 0.7:
					t.Status = StatusCancelled
				case p < 0.75:
					t.Status = StatusError
				case p < 0.88:
					t.Status, t.Stuck = StatusRunning, true
				default:
					t.Status, t.Stuck = StatusPending, true
				}
			}
			if t.Status != StatusPending && t.Status != StatusRunning {
				t.UpdatedAt = t.CreatedAt.Add(age(time.Second, 10*time.Minute))
				if t.UpdatedAt.After(now) {
					t.UpdatedAt = now
				}
			}
			t.Url = fmt.Sprintf("https://media.example.com/%s/%s", g.service, t.DataId)
			if isLive(g.typ) {
				t.Url = fmt.Sprintf("rtmp://live.example.com/app/%s", t.DataId)
			}
			s.AddTask(t)
		}
	}

	liveStates := []struct {
		state    string
		min, max time.Duration
	}{
		{LiveAuditing, 3 * time.Hour, 48 * time.Hour}, {LiveAuditing, 3 * time.Hour, 48 * time.Hour},
		{LiveAuditing, 3 * time.Hour, 48 * time.Hour}, {LiveAuditing, 3 * time.Hour, 48 * time.Hour},
		{LiveAuditing, 3 * time.Hour, 48 * time.Hour}, {LiveSubmitted, 3 * time.Hour, 48 * time.Hour},
		{LiveAuditing, 5 * time.Minute, time.Hour}, {LiveAuditing, 5 * time.Minute, time.Hour},
		{LiveAuditing, 5 * time.Minute, time.Hour},
		{LiveCancelled, 3 * time.Hour, 48 * time.Hour}, {LiveSuccess, 3 * time.Hour, 48 * time.Hour},
		{LiveFailed, 5 * time.Minute, time.Hour},
	}
	for i, ls := range liveStates {
		s.AddLiveJob(LiveJob{JobId: hexID("av", 32), DataId: fmt.Sprintf("demo-room-%02d", i),
			Url: fmt.Sprintf("rtmp://live.example.com/app/room-%02d", i), BizType: "live_default",
			State: ls.state, CreationTime: now.Add(-age(ls.min, ls.max)).Truncate(time.Second),
			Bucket: DefaultBucket, Region: DefaultBucketRegion})
	}

	trans := []struct {
		region, status string
		min, max       time.Duration
	}{
		{"ap-guangzhou", TranscriptionInProgress, 3 * time.Hour, 30 * time.Hour},
		{"ap-guangzhou", TranscriptionInProgress, 3 * time.Hour, 30 * time.Hour},
		{"ap-guangzhou", TranscriptionInProgress, 3 * time.Hour, 30 * time.Hour},
		{"ap-guangzhou", TranscriptionInProgress, 3 * time.Hour, 30 * time.Hour},
		{"ap-guangzhou", TranscriptionInProgress, 2 * time.Minute, time.Hour},
		{"ap-guangzhou", TranscriptionInProgress, 2 * time.Minute, time.Hour},
		{"ap-guangzhou", TranscriptionExited, 3 * time.Hour, 30 * time.Hour},
		{"ap-guangzhou", TranscriptionExited, 2 * time.Minute, time.Hour},
		{"ap-singapore", TranscriptionInProgress, 3 * time.Hour, 30 * time.Hour},
	}
	for i, tr := range trans {
		s.AddTranscription(Transcription{TaskId: hexID("tt-", 32), SdkAppId: DefaultSdkAppID,
			RoomId: fmt.Sprintf("demo-room-%02d", i), Region: tr.region, Status: tr.status,
			StartTime: now.Add(-age(tr.min, tr.max)).Truncate(time.Millisecond)})
	}
}
