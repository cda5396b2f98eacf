package emulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// DemoStaleAge is the age beyond which LoadDemo's unfinished records are stale.
const DemoStaleAge = 2 * time.Hour

// LoadDemo adds the demo data set (docs/emulator.md#inspection-api), fixed by
// Options.Seed and the clock.
func (s *Server) LoadDemo() {
	g := &demoGen{now: s.now(), rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), 0xdea0))}
	// The order of the calls fixes the random sequence: keep it.
	for _, grp := range demoTaskGroups {
		for i := 0; i < grp.n; i++ {
			s.AddTask(g.task(grp, i))
		}
	}
	for i, ls := range demoLiveJobs {
		s.AddLiveJob(LiveJob{JobId: g.hexID("av", 32), DataId: fmt.Sprintf("demo-room-%02d", i),
			Url: fmt.Sprintf("rtmp://live.example.com/app/room-%02d", i), BizType: "live_default",
			State: ls.state, CreationTime: g.now.Add(-g.age(ls.min, ls.max)).Truncate(time.Second),
			Bucket: DefaultBucket, Region: DefaultBucketRegion})
	}
	for i, tr := range demoTranscriptions {
		s.AddTranscription(Transcription{TaskId: g.hexID("tt-", 32), SdkAppId: DefaultSdkAppID,
			RoomId: fmt.Sprintf("demo-room-%02d", i), Region: tr.region, Status: tr.status,
			StartTime: g.now.Add(-g.age(tr.min, tr.max)).Truncate(time.Millisecond)})
	}
}

// demoGen draws the demo data from one seeded random sequence.
type demoGen struct {
	now time.Time
	rng *rand.Rand
}

func (g *demoGen) hexID(prefix string, n int) string {
	out := prefix
	for len(out) < len(prefix)+n {
		out += fmt.Sprintf("%016x", g.rng.Uint64())
	}
	return out[:len(prefix)+n]
}

func (g *demoGen) age(min, max time.Duration) time.Duration {
	return min + time.Duration(g.rng.Int64N(int64(max-min)))
}

type demoTaskGroup struct {
	service, typ string
	n            int
	bizTypes     []string
}

var demoTaskGroups = []demoTaskGroup{
	{"ams", TypeAudio, 120, []string{"default", "chat", "game_voice"}},
	{"ams", TypeLiveAudio, 40, []string{"default", "live_room"}},
	{"vm", TypeVideo, 100, []string{"default", "short_video"}},
	{"vm", TypeLiveVideo, 30, []string{"default", "live_show"}},
}

// task is the i-th demo task of group grp: 70% older than DemoStaleAge.
func (g *demoGen) task(grp demoTaskGroup, i int) Task {
	t := Task{Service: grp.service, Type: grp.typ, BizType: grp.bizTypes[g.rng.IntN(len(grp.bizTypes))],
		DataId: fmt.Sprintf("demo-%s-%s-%03d", grp.service, grp.typ, i)}
	t.Name = t.DataId
	t.TaskId = g.hexID(taskIDPrefix(grp.service), 24)
	var a time.Duration
	if old := g.rng.Float64() < 0.7; old {
		a = g.age(DemoStaleAge+time.Minute, 96*time.Hour)
	} else {
		a = g.age(time.Minute, DemoStaleAge-time.Minute)
	}
	t.CreatedAt = g.now.Add(-a).Truncate(time.Millisecond)
	if isLive(grp.typ) {
		g.status(&t, demoLiveOutcomes)
		t.Url = fmt.Sprintf("rtmp://live.example.com/app/%s", t.DataId)
	} else {
		g.status(&t, demoBatchOutcomes)
		t.Url = fmt.Sprintf("https://media.example.com/%s/%s", grp.service, t.DataId)
	}
	if t.Status != StatusPending && t.Status != StatusRunning {
		t.UpdatedAt = t.CreatedAt.Add(g.age(time.Second, 10*time.Minute))
		if t.UpdatedAt.After(g.now) {
			t.UpdatedAt = g.now
		}
	}
	return t
}

// demoOutcome is a status drawn when the draw is below below; live streams
// never finish by themselves.
type demoOutcome struct {
	below  float64
	status string
	stuck  bool
}

var (
	demoLiveOutcomes  = []demoOutcome{{0.55, StatusRunning, false}, {0.65, StatusPending, true}, {0.9, StatusCancelled, false}, {1, StatusError, false}}
	demoBatchOutcomes = []demoOutcome{{0.6, StatusFinish, false}, {0.7, StatusCancelled, false}, {0.75, StatusError, false},
		{0.88, StatusRunning, true}, {1, StatusPending, true}}
)

func (g *demoGen) status(t *Task, outcomes []demoOutcome) {
	p := g.rng.Float64()
	o := outcomes[slices.IndexFunc(outcomes, func(o demoOutcome) bool { return p < o.below })]
	t.Status, t.Stuck = o.status, o.stuck
	if t.Status == StatusFinish {
		t.Suggestion = suggestions[g.rng.IntN(len(suggestions))]
	}
}

var demoLiveJobs = []struct {
	state    string
	min, max time.Duration
}{
	{LiveAuditing, demoOld, 48 * time.Hour}, {LiveAuditing, demoOld, 48 * time.Hour}, {LiveAuditing, demoOld, 48 * time.Hour},
	{LiveAuditing, demoOld, 48 * time.Hour}, {LiveAuditing, demoOld, 48 * time.Hour}, {LiveSubmitted, demoOld, 48 * time.Hour},
	{LiveAuditing, demoYoung, time.Hour}, {LiveAuditing, demoYoung, time.Hour}, {LiveAuditing, demoYoung, time.Hour},
	{LiveCancelled, demoOld, 48 * time.Hour}, {LiveSuccess, demoOld, 48 * time.Hour}, {LiveFailed, demoYoung, time.Hour},
}

// demoOld and demoYoung are the least ages of the stale and young live jobs.
const demoOld, demoYoung = 3 * time.Hour, 5 * time.Minute

var demoTranscriptions = []struct {
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
