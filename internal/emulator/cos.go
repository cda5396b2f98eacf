package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"hash/crc64"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// COS object storage, as much as scf-janitor's report archive and a reader
// of it need: PUT Bucket (create), GET Bucket (list objects), PUT Object and
// GET Object, on the bucket's host <Name>.cos.<Region>.myqcloud.com (COS
// API docs, cloud.tencent.com/document/product/436: 7752 PUT Bucket, 7734
// GET Bucket, 7749 PUT Object, 7753 GET Object), signed with the COS
// signature (cosauth.go) and held to the role's policies like CI. A bucket
// must exist (CreateBucket, PUT Bucket or PUT /_emulator/cos/<bucket>)
// before objects are written to it: NoSuchBucket otherwise. Any account's
// keys may use any bucket (bucket ownership and ACLs are not modelled).

// reCOSHost matches a bucket's COS host, <name-appid>.cos.<region>.myqcloud.com.
var reCOSHost = regexp.MustCompile(`^([a-z0-9-]+-([0-9]+))\.cos\.([a-z0-9-]+)\.myqcloud\.com(:[0-9]+)?$`)

// cosMaxKeys is GET Bucket's max-keys default and maximum (doc 7734).
const cosMaxKeys = 1000

// COSObject describes a stored object.
type COSObject struct {
	Key          string
	Size         int64
	ETag         string // "<md5 hex>", quoted as COS answers it
	ContentType  string
	LastModified time.Time
}

type cosObjectRec struct {
	COSObject
	body []byte
}

// cosCRC64 is COS's object checksum: COS answers PUT and GET Object with
// x-cos-hash-crc64ecma (doc 7749's response headers), the decimal
// CRC-64/ECMA of the content, which cos-go-sdk-v5 verifies. The table is
// made on first use (crc64 caches it), not at package init: it weighs 32 KB,
// which every program linking the emulator (bench-sweep's measured
// children) would carry.
func cosCRC64(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

type cosBucketRec struct {
	Bucket
	created time.Time
	objects map[string]*cosObjectRec
}

// cosStore holds the buckets; its zero value is ready.
type cosStore struct {
	mu      sync.Mutex
	buckets map[string]*cosBucketRec // by name (a name is unique to its APPID)
}

// isCOSHost reports whether host is a bucket's COS host.
func isCOSHost(host string) bool { return reCOSHost.MatchString(strings.ToLower(host)) }

// CreateBucket creates bucket b (Name <name>-<appid>, Region); it reports
// false when a bucket of that name exists already (it is kept as it is).
func (s *Server) CreateBucket(b Bucket) bool {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	if s.cos.buckets == nil {
		s.cos.buckets = map[string]*cosBucketRec{}
	}
	if _, ok := s.cos.buckets[b.Name]; ok {
		return false
	}
	s.cos.buckets[b.Name] = &cosBucketRec{Bucket: b, created: s.now(), objects: map[string]*cosObjectRec{}}
	return true
}

// DeleteBucket removes a bucket and its objects; false when there is none.
func (s *Server) DeleteBucket(name string) bool {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	_, ok := s.cos.buckets[name]
	delete(s.cos.buckets, name)
	return ok
}

// COSBuckets returns the buckets, by name.
func (s *Server) COSBuckets() []Bucket {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	out := make([]Bucket, 0, len(s.cos.buckets))
	for _, b := range s.cos.buckets {
		out = append(out, b.Bucket)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// COSObjects returns the objects of a bucket whose keys start with prefix,
// in key order; ok is false when there is no such bucket.
func (s *Server) COSObjects(bucket, prefix string) (objs []COSObject, ok bool) {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	b, ok := s.cos.buckets[bucket]
	if !ok {
		return nil, false
	}
	out := []COSObject{}
	for k, o := range b.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, o.COSObject)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, true
}

// COSObjectBody returns an object and its content.
func (s *Server) COSObjectBody(bucket, key string) (COSObject, []byte, bool) {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	b, ok := s.cos.buckets[bucket]
	if !ok {
		return COSObject{}, nil, false
	}
	o, ok := b.objects[key]
	if !ok {
		return COSObject{}, nil, false
	}
	return o.COSObject, slices.Clone(o.body), true
}

// putCOSObject stores body as bucket's key; false when there is no such bucket.
func (s *Server) putCOSObject(b Bucket, key, contentType string, body []byte) (COSObject, bool) {
	sum := md5.Sum(body)
	o := &cosObjectRec{COSObject: COSObject{Key: key, Size: int64(len(body)), ETag: `"` + hex.EncodeToString(sum[:]) + `"`,
		ContentType: contentType, LastModified: s.now()}, body: body}
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	rec, ok := s.cos.buckets[b.Name]
	if !ok || rec.Region != b.Region {
		return COSObject{}, false
	}
	rec.objects[key] = o
	return o.COSObject, true
}

// cosBucketExists reports whether b exists in its region.
func (s *Server) cosBucketExists(b Bucket) bool {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	rec, ok := s.cos.buckets[b.Name]
	return ok && rec.Region == b.Region
}

// ---- HTTP ----

// cosPolicyActions are the CAM action names (COS "Working with COS API
// Authorization Policies", cloud.tencent.com/document/product/436/31923:
// name/cos:PutObject, name/cos:GetObject, name/cos:GetBucket,
// name/cos:PutBucket).
var cosPolicyActions = map[string]string{
	"cos.PutBucket": "cos:PutBucket",
	"cos.GetBucket": "cos:GetBucket",
	"cos.PutObject": "cos:PutObject",
	"cos.GetObject": "cos:GetObject",
}

// cosResource is the CAM resource of a request on bucket b (key "" for the
// bucket itself): qcs::cos:<region>:uid/<appid>:<bucket>/<key>, the form of
// the policies in doc 436/31923 (which grant a prefix as .../<prefix>*).
func cosResource(b Bucket, key string) string {
	appID := b.Name[strings.LastIndexByte(b.Name, '-')+1:]
	return "qcs::cos:" + b.Region + ":uid/" + appID + ":" + b.Name + "/" + key
}

type cosListResult struct {
	XMLName        xml.Name        `xml:"ListBucketResult"`
	Name           string          `xml:"Name"`
	Prefix         string          `xml:"Prefix"`
	Marker         string          `xml:"Marker"`
	NextMarker     string          `xml:"NextMarker,omitempty"`
	Delimiter      string          `xml:"Delimiter,omitempty"`
	MaxKeys        int             `xml:"MaxKeys"`
	IsTruncated    bool            `xml:"IsTruncated"`
	Contents       []cosListObject `xml:"Contents"`
	CommonPrefixes []string        `xml:"CommonPrefixes>Prefix"`
}

type cosListObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

func writeCOSError(w http.ResponseWriter, e *ciError, resource, requestID string) {
	b, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		Resource  string   `xml:"Resource"`
		RequestId string   `xml:"RequestId"`
		TraceId   string   `xml:"TraceId"`
	}{Code: e.Code, Message: e.Message, Resource: resource, RequestId: requestID, TraceId: requestID})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-cos-request-id", requestID)
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// cosAction names a request: the action (stats key) and the object key.
func cosAction(r *http.Request) (action, key string, e *ciError) {
	key = strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case key == "" && r.Method == http.MethodPut:
		return "cos.PutBucket", "", nil
	case key == "" && r.Method == http.MethodGet:
		return "cos.GetBucket", "", nil
	case key != "" && r.Method == http.MethodPut:
		return "cos.PutObject", key, nil
	case key != "" && r.Method == http.MethodGet:
		return "cos.GetObject", key, nil
	}
	return "", key, ciErrf(http.StatusMethodNotAllowed, "MethodNotAllowed",
		r.Method+" is not emulated on "+r.URL.Path+"; the emulator serves PUT and GET of a bucket (/) and of an object (/<key>).")
}

// serveCOS answers a request on a bucket's COS host.
func (s *Server) serveCOS(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	info.requestID = newRequestID()
	m := reCOSHost.FindStringSubmatch(strings.ToLower(r.Host))
	b := Bucket{Name: m[1], Region: m[3]}
	fail := func(e *ciError) {
		info.code = e.Code
		writeCOSError(w, e, r.Host+r.URL.Path, info.requestID)
	}
	action, key, aerr := cosAction(r)
	info.action = action
	if aerr != nil {
		fail(aerr)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		fail(ciErrf(http.StatusRequestEntityTooLarge, "EntityTooLarge", "The request body exceeds the emulator's 10 MB."))
		return
	}
	cred, cerr := verifyCOS(r, s.acct.credentials(), s.opts.AuthNow())
	if cerr != nil {
		fail(cerr)
		return
	}
	if msg := s.authorize(cred.SecretID, cosPolicyActions[action], func() string { return cosResource(b, key) }); msg != "" {
		fail(ciErrf(http.StatusForbidden, "AccessDenied", msg))
		return
	}
	if !s.admit(action, cred.SecretID) {
		fail(ciErrf(http.StatusServiceUnavailable, "SlowDown", "Too many requests: "+action+" allows "+formatRate(s.opts.Rate)+" requests per second per SecretId."))
		return
	}
	if done, internal := s.injectFault(w, r, info); done {
		return
	} else if internal != 0 {
		fail(ciErrf(internal, "InternalError", "An internal error occurred (injected fault)."))
		return
	}
	if action == "cos.PutBucket" {
		if !s.CreateBucket(b) {
			fail(ciErrf(http.StatusConflict, "BucketAlreadyExists", "The bucket "+b.Name+" already exists."))
			return
		}
		w.Header().Set("x-cos-request-id", info.requestID)
		w.WriteHeader(http.StatusOK)
		return
	}
	if !s.cosBucketExists(b) {
		fail(ciErrf(http.StatusNotFound, "NoSuchBucket", "The specified bucket "+b.Name+" does not exist in "+b.Region+"."))
		return
	}
	switch action {
	case "cos.PutObject":
		o, ok := s.putCOSObject(b, key, r.Header.Get("Content-Type"), body)
		if !ok {
			fail(ciErrf(http.StatusNotFound, "NoSuchBucket", "The specified bucket "+b.Name+" does not exist in "+b.Region+"."))
			return
		}
		w.Header().Set("ETag", o.ETag)
		w.Header().Set("x-cos-hash-crc64ecma", cosCRC64(body))
		w.Header().Set("x-cos-request-id", info.requestID)
		w.WriteHeader(http.StatusOK)
	case "cos.GetObject":
		o, data, ok := s.COSObjectBody(b.Name, key)
		if !ok {
			fail(ciErrf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."))
			return
		}
		writeCOSObject(w, o, data, info.requestID)
	case "cos.GetBucket":
		s.serveCOSList(w, r, b, info.requestID, fail)
	}
}

func writeCOSObject(w http.ResponseWriter, o COSObject, data []byte, requestID string) {
	if o.ContentType != "" {
		w.Header().Set("Content-Type", o.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("ETag", o.ETag)
	w.Header().Set("x-cos-hash-crc64ecma", cosCRC64(data))
	w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	if requestID != "" {
		w.Header().Set("x-cos-request-id", requestID)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// serveCOSList answers GET Bucket: the keys after marker that start with
// prefix, in key order, at most max-keys of them (default and maximum 1000);
// with a delimiter, keys holding it after the prefix are rolled up into
// CommonPrefixes.
func (s *Server) serveCOSList(w http.ResponseWriter, r *http.Request, b Bucket, requestID string, fail func(*ciError)) {
	q := r.URL.Query()
	prefix, marker, delim := q.Get("prefix"), q.Get("marker"), q.Get("delimiter")
	maxKeys := cosMaxKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(ciErrf(http.StatusBadRequest, "InvalidArgument", "max-keys "+v+": want a whole number from 0 to 1000."))
			return
		}
		maxKeys = min(n, cosMaxKeys)
	}
	objs, _ := s.COSObjects(b.Name, prefix)
	res := cosListResult{Name: b.Name, Prefix: prefix, Marker: marker, Delimiter: delim, MaxKeys: maxKeys}
	seen := map[string]bool{}
	last := ""
	for _, o := range objs {
		if o.Key <= marker || delim != "" && strings.HasSuffix(marker, delim) && strings.HasPrefix(o.Key, marker) {
			continue // before the marker, or under the common prefix the marker names
		}
		if delim != "" {
			if i := strings.Index(o.Key[len(prefix):], delim); i >= 0 {
				cp := o.Key[:len(prefix)+i+len(delim)]
				if seen[cp] {
					continue
				}
				if len(res.Contents)+len(res.CommonPrefixes) == maxKeys {
					res.IsTruncated = true
					break
				}
				seen[cp] = true
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				last = cp
				continue
			}
		}
		if len(res.Contents)+len(res.CommonPrefixes) == maxKeys {
			res.IsTruncated = true
			break
		}
		res.Contents = append(res.Contents, cosListObject{Key: o.Key, LastModified: o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD"})
		last = o.Key
	}
	if res.IsTruncated {
		res.NextMarker = last
	}
	out, _ := xml.Marshal(res)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-cos-request-id", requestID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
