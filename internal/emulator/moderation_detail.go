package emulator

import "strconv"

// DescribeTaskDetail's segments: keys of tccli ams and vm 2020-12-29
// examples.json DescribeTaskDetail, types of the SDK models.go.

type textResult struct {
	Label          string
	Keywords       []string
	LibId, LibName string
	Score          int64
	Suggestion     string
	LibType        int64
	SubLabel       string
}

type languageResult struct {
	Label              string
	Score              int64
	StartTime, EndTime float64
	SubLabelCode       string
}

type moanResult struct {
	languageResult
	SubLabel, Suggestion string
}

type recognitionTag struct {
	Name               string
	Score              int64
	StartTime, EndTime float64
}

type recognitionResult struct {
	Label string
	Tags  []recognitionTag
}

type audioResult struct {
	HitFlag                                     int64
	Label, Suggestion                           string
	Score                                       int64
	Text, Url, Duration, Extra                  string
	TextResults                                 []textResult
	MoanResults                                 []moanResult
	LanguageResults                             []languageResult
	SpeakerResults, LabelResults, TravelResults []struct{}
	SubLabel                                    string
	RecognitionResults                          []recognitionResult
}

type audioSegment struct {
	OffsetTime string
	Result     audioResult
}

type imageResultItem struct {
	Scene                       string
	HitFlag                     int64
	Suggestion, Label, SubLabel string
	Score                       int64
	Names                       []string
	Text                        string
	Details                     []struct{}
}

type imageResult struct {
	HitFlag                     int64
	Label, SubLabel, Suggestion string
	Score                       int64
	Results                     []imageResultItem
	Url, Extra                  string
}

type imageSegment struct {
	Result     imageResult
	OffsetTime string
}

type segmentCosURLs struct {
	ImageAllUrl, AudioAllUrl, ImageBlockUrl, AudioBlockUrl, AsrUrl string
}

// segmentsOf: a finished task has one segment at offset 0 with its label;
// images and urls are VM's only. The URLs do not resolve.
func segmentsOf(d taskData, video bool) (audio []audioSegment, images []imageSegment, urls *segmentCosURLs) {
	audio = []audioSegment{}
	base := "https://moderation-segments.emulator.invalid/" + d.TaskId + "/"
	if video {
		images = []imageSegment{}
		urls = &segmentCosURLs{ImageAllUrl: base + "image_all.txt", AudioAllUrl: base + "audio_all.txt",
			ImageBlockUrl: base + "image_block.txt", AudioBlockUrl: base + "audio_block.txt", AsrUrl: base + "asr.txt"}
	}
	if d.Status != StatusFinish || len(d.Labels) == 0 {
		return audio, images, urls
	}
	l := d.Labels[0]
	hit := int64(0)
	if d.Suggestion != "Pass" {
		hit = 1
	}
	secs := float64(d.MediaInfo.Duration) / 1000
	audio = append(audio, audioSegment{OffsetTime: "0", Result: audioResult{
		HitFlag: hit, Label: l.Label, Suggestion: d.Suggestion, Score: l.Score, Url: base + "audio_0.mp3",
		Duration:        strconv.FormatInt(d.MediaInfo.Duration, 10),
		TextResults:     []textResult{{Label: l.Label, Keywords: []string{}, Score: l.Score, Suggestion: d.Suggestion}},
		MoanResults:     []moanResult{{languageResult: languageResult{Label: "Moan", EndTime: secs}, Suggestion: "Pass"}},
		LanguageResults: []languageResult{{Label: "cmn", Score: 99, EndTime: secs}},
		SpeakerResults:  []struct{}{}, LabelResults: []struct{}{}, TravelResults: []struct{}{},
		RecognitionResults: []recognitionResult{{Label: "Voice", Tags: []recognitionTag{{Name: "speech", Score: 90, EndTime: secs}}}},
	}})
	if video {
		images = append(images, imageSegment{OffsetTime: "0", Result: imageResult{
			HitFlag: hit, Label: l.Label, Suggestion: d.Suggestion, Score: l.Score, Url: base + "image_0.jpg", Extra: "{}",
			Results: []imageResultItem{{Scene: l.Label, HitFlag: hit, Suggestion: d.Suggestion, Label: l.Label, Score: l.Score,
				Names: []string{}, Details: []struct{}{}}},
		}})
	}
	return audio, images, urls
}
