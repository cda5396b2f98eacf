package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"hash/crc64"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// COS (docs/emulator.md#cos): PUT/GET Bucket and Object on the bucket's
// host (COS API docs 436/7752, 7734, 7749, 7753).

// reCOSHost matches a bucket's COS host, <name-appid>.cos.<region>.myqcloud.com.
var reCOSHost = regexp.MustCompile(`^([a-z0-9-]+-([0-9]+))\.cos\.([a-z0-9-]+)\.myqcloud\.com(:[0-9]+)?$`)

// cosMaxKeys is GET Bucket's max-keys default and maximum (doc 7734).
const cosMaxKeys = 1000

// COSObject describes a stored object; ETag is its quoted MD5 hex.
type COSObject struct {
	Key               string
	Size              int64
	ETag, ContentType string
	LastModified      time.Time
}

type cosObjectRec struct {
	COSObject
	body []byte
}

// cosCRC64 is x-cos-hash-crc64ecma (doc 7749); the table is made on use, not at init.
func cosCRC64(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

type cosBucketRec struct {
	Bucket
	objects map[string]*cosObjectRec
}

// cosStore holds the buckets by name; its zero value is ready.
type cosStore struct {
	mu      sync.Mutex
	buckets map[string]*cosBucketRec
}

func isCOSHost(host string) bool { return reCOSHost.MatchString(strings.ToLower(host)) }

// CreateBucket creates bucket b; false when it exists (it is kept).
func (s *Server) CreateBucket(b Bucket) bool {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	if s.cos.buckets == nil {
		s.cos.buckets = map[string]*cosBucketRec{}
	}
	if _, ok := s.cos.buckets[b.Name]; ok {
		return false
	}
	s.cos.buckets[b.Name] = &cosBucketRec{Bucket: b, objects: map[string]*cosObjectRec{}}
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

// withBucket runs f on bucket b (Region "" = any) under the lock; false when none.
func (s *Server) withBucket(b Bucket, f func(*cosBucketRec)) bool {
	s.cos.mu.Lock()
	defer s.cos.mu.Unlock()
	rec, ok := s.cos.buckets[b.Name]
	if ok = ok && (b.Region == "" || rec.Region == b.Region); ok {
		f(rec)
	}
	return ok
}

// COSObjects returns a bucket's objects under prefix in key order; false: no bucket.
func (s *Server) COSObjects(bucket, prefix string) (objs []COSObject, ok bool) {
	objs = []COSObject{}
	ok = s.withBucket(Bucket{Name: bucket}, func(b *cosBucketRec) {
		for k, o := range b.objects {
			if strings.HasPrefix(k, prefix) {
				objs = append(objs, o.COSObject)
			}
		}
	})
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	return objs, ok
}

// COSObjectBody returns an object and its content.
func (s *Server) COSObjectBody(bucket, key string) (COSObject, []byte, bool) {
	o, ok := s.cosObject(Bucket{Name: bucket}, key)
	if !ok {
		return COSObject{}, nil, false
	}
	return o.COSObject, slices.Clone(o.body), true
}

// cosObject is bucket b's object key (its body is never written to).
func (s *Server) cosObject(b Bucket, key string) (o *cosObjectRec, ok bool) {
	s.withBucket(b, func(b *cosBucketRec) { o, ok = b.objects[key] })
	return o, ok
}

// putCOSObject stores body as bucket's key; false when there is no such bucket.
func (s *Server) putCOSObject(b Bucket, key, contentType string, body []byte) (COSObject, bool) {
	sum := md5.Sum(body)
	o := &cosObjectRec{COSObject: COSObject{Key: key, Size: int64(len(body)), ETag: `"` + hex.EncodeToString(sum[:]) + `"`,
		ContentType: contentType, LastModified: s.now()}, body: body}
	return o.COSObject, s.withBucket(b, func(b *cosBucketRec) { b.objects[key] = o })
}

// cosResource is the CAM resource of bucket b's key (doc 436/31923).
func cosResource(b Bucket, key string) string {
	appID := b.Name[strings.LastIndexByte(b.Name, '-')+1:]
	return "qcs::cos:" + b.Region + ":uid/" + appID + ":" + b.Name + "/" + key
}

type cosListResult struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	Name, Prefix   string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	Delimiter      string `xml:",omitempty"`
	MaxKeys        int
	IsTruncated    bool
	Contents       []cosListObject
	CommonPrefixes []string `xml:"CommonPrefixes>Prefix"`
}

type cosListObject struct {
	Key, LastModified, ETag string
	Size                    int64
	StorageClass            string
}

// cosAction names a request's action (stats key) and object key ("" for the bucket).
func cosAction(r *http.Request) (action, key string, e *ciError) {
	key = strings.TrimPrefix(r.URL.Path, "/")
	verb := map[string]string{http.MethodPut: "Put", http.MethodGet: "Get"}[r.Method]
	switch {
	case verb == "":
		return "", key, ciErrf(http.StatusMethodNotAllowed, "MethodNotAllowed",
			r.Method+" is not emulated on "+r.URL.Path+"; the emulator serves PUT and GET of a bucket (/) and of an object (/<key>).")
	case key == "":
		return "cos." + verb + "Bucket", key, nil
	}
	return "cos." + verb + "Object", key, nil
}

// serveCOS answers a request on a bucket's COS host.
func (s *Server) serveCOS(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	info.requestID = newRequestID()
	m := reCOSHost.FindStringSubmatch(strings.ToLower(r.Host))
	b := Bucket{Name: m[1], Region: m[3]}
	c := &xmlCall{w: w, info: info, cos: true, resource: r.Host + r.URL.Path, bucket: b}
	action, key, e := cosAction(r)
	info.action = action
	if e != nil {
		c.fail(e)
		return
	}
	policyAction := "cos:" + strings.TrimPrefix(action, "cos.")
	if !s.admitXML(r, c, policyAction, func() string { return cosResource(b, key) }, func() *ciError { return nil }) {
		return
	}
	noBucket := ciErrf(http.StatusNotFound, "NoSuchBucket", "The specified bucket "+b.Name+" does not exist in "+b.Region+".")
	if action != "cos.PutBucket" && !s.withBucket(b, func(*cosBucketRec) {}) {
		c.fail(noBucket)
		return
	}
	switch action {
	case "cos.PutBucket":
		if !s.CreateBucket(b) {
			c.fail(ciErrf(http.StatusConflict, "BucketAlreadyExists", "The bucket "+b.Name+" already exists."))
			return
		}
		c.reply(http.StatusOK, nil)
	case "cos.PutObject":
		o, ok := s.putCOSObject(b, key, r.Header.Get("Content-Type"), c.body)
		if !ok {
			c.fail(noBucket)
			return
		}
		w.Header().Set("ETag", o.ETag)
		w.Header().Set("x-cos-hash-crc64ecma", cosCRC64(c.body))
		c.reply(http.StatusOK, nil)
	case "cos.GetObject":
		o, ok := s.cosObject(b, key)
		if !ok {
			c.fail(ciErrf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."))
			return
		}
		w.Header().Set("x-cos-request-id", info.requestID)
		writeCOSObject(w, o)
	case "cos.GetBucket":
		s.serveCOSList(r, c)
	}
}

func writeCOSObject(w http.ResponseWriter, o *cosObjectRec) {
	if o.ContentType != "" {
		w.Header().Set("Content-Type", o.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(o.body)))
	w.Header().Set("ETag", o.ETag)
	w.Header().Set("x-cos-hash-crc64ecma", cosCRC64(o.body))
	w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(o.body)
}

// serveCOSList answers GET Bucket (doc 7734): prefix, marker, max-keys, delimiter.
func (s *Server) serveCOSList(r *http.Request, c *xmlCall) {
	q := r.URL.Query()
	prefix, marker, delim := q.Get("prefix"), q.Get("marker"), q.Get("delimiter")
	maxKeys := cosMaxKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.fail(ciErrf(http.StatusBadRequest, "InvalidArgument", "max-keys "+v+": want a whole number from 0 to 1000."))
			return
		}
		maxKeys = min(n, cosMaxKeys)
	}
	objs, _ := s.COSObjects(c.bucket.Name, prefix)
	res := cosListResult{Name: c.bucket.Name, Prefix: prefix, Marker: marker, Delimiter: delim, MaxKeys: maxKeys}
	last := ""
	for _, o := range objs {
		if o.Key <= marker || delim != "" && strings.HasSuffix(marker, delim) && strings.HasPrefix(o.Key, marker) {
			continue // before the marker, or under the common prefix the marker names
		}
		entry, rolled := o.Key, false
		if i := strings.Index(o.Key[len(prefix):], delim); delim != "" && i >= 0 {
			entry, rolled = o.Key[:len(prefix)+i+len(delim)], true
		}
		if rolled && entry == last {
			continue
		}
		if len(res.Contents)+len(res.CommonPrefixes) == maxKeys {
			res.IsTruncated, res.NextMarker = true, last
			break
		}
		if rolled {
			res.CommonPrefixes = append(res.CommonPrefixes, entry)
		} else {
			res.Contents = append(res.Contents, cosListObject{Key: o.Key, LastModified: o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
				ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD"})
		}
		last = entry
	}
	c.reply(http.StatusOK, res)
}
