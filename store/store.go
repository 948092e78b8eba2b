// Package store reads and writes backup objects in object storage (S3, GCS, Azure Blob) and on
// persistent volumes, over gocloud.dev/blob. It knows nothing of etcd: keys, bytes and metadata only.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob" // s3://
	"gocloud.dev/gcerrors"
)

// fileblobTemp matches fileblob's in-progress temporary files ("<key>.<hex nanos>.tmp"), which sit beside their
// final name until committed; they are not objects yet.
var fileblobTemp = regexp.MustCompile(`\.[0-9a-f]{8,}\.tmp$`)

// ErrNotFound marks a missing bucket, directory or object.
var ErrNotFound = errors.New("not found")

// ErrNoCredentials marks a cloud store opened without any credentials to sign with (not a refusal by the store).
var ErrNoCredentials = errors.New("no credentials found")

// ErrAccessDenied marks a refusal by the store: bad or missing credentials, or no permission.
var ErrAccessDenied = errors.New("access denied")

// Object is one stored object as listed.
type Object struct {
	Key     string // relative to the store prefix, "/"-separated
	Size    int64
	ModTime time.Time
	// Metadata is nil unless it was fetched (Attributes, FetchMetadata).
	Metadata map[string]string
}

// Store is one opened store URL: a bucket (or directory) and a key prefix below it.
type Store struct {
	loc    Location
	url    string // redacted, safe to print
	bucket *blob.Bucket
	// closeClient closes a client the bucket was given rather than made (gs://), nil otherwise.
	closeClient func() error
}

// OpenOptions tunes Open.
type OpenOptions struct {
	// Create makes a missing file:// directory instead of failing (writers only; readers never create).
	Create bool
}

// Open opens a store URL. A malformed URL or unsupported scheme fails with ErrBadURL before anything is touched;
// a missing file:// directory fails with ErrNotFound.
func Open(ctx context.Context, rawURL string, opts ...OpenOptions) (*Store, error) {
	var o OpenOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{loc: loc, url: Redact(rawURL)}
	var b *blob.Bucket
	switch loc.Scheme {
	case "file":
		if fi, err := os.Stat(loc.Bucket); err != nil {
			if !os.IsNotExist(err) || !o.Create {
				return nil, s.wrap("open", "", fmt.Errorf("directory %s: %w", loc.Bucket, asNotFound(err)))
			}
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("%w %s: %s is not a directory", ErrBadURL, s.url, loc.Bucket)
		}
		// NoTempDir: temporary files sit beside their final name, so the commit is a same-filesystem rename.
		b, err = fileblob.OpenBucket(loc.Bucket, &fileblob.Options{CreateDir: o.Create, NoTempDir: true})
	case "mem":
		b = memBucket(loc.Bucket)
	default:
		q := url.Values{}
		for k, v := range loc.Query {
			q[k] = v
		}
		if loc.Scheme == "s3" && q.Get("endpoint") != "" && q.Get("region") == "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			// S3-compatible servers (MinIO, Ceph, versitygw) ignore the region but the SDK insists on one.
			q.Set("region", "us-east-1")
		}
		u := url.URL{Scheme: loc.Scheme, Host: loc.Bucket, RawQuery: q.Encode()}
		switch loc.Scheme {
		case "azblob":
			b, err = openAzure(ctx, &u)
		case "gs":
			b, s.closeClient, err = openGCS(ctx, loc.Bucket)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", s.url, err)
			}
		default:
			b, err = blob.OpenBucket(ctx, u.String())
		}
		if err != nil {
			if loc.Scheme == "azblob" {
				return nil, fmt.Errorf("%w %s: %s (set AZURE_STORAGE_ACCOUNT, and AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or use a managed identity)", ErrBadURL, s.url, RedactText(err.Error()))
			}
			return nil, fmt.Errorf("%w %s: %s", ErrBadURL, s.url, RedactText(err.Error()))
		}
	}
	if err != nil {
		return nil, s.wrap("open", "", err)
	}
	if loc.Prefix != "" {
		b = blob.PrefixedBucket(b, loc.Prefix+"/")
	}
	s.bucket = b
	return s, nil
}

var (
	memMu      sync.Mutex
	memBuckets = map[string]*memShared{}
)

type memShared struct{ b *blob.Bucket }

// memBucket returns the process-wide in-memory bucket of that name, so two Opens of mem://x see the same objects.
func memBucket(name string) *blob.Bucket {
	memMu.Lock()
	defer memMu.Unlock()
	m, ok := memBuckets[name]
	if !ok {
		m = &memShared{b: memblob.OpenBucket(nil)}
		memBuckets[name] = m
	}
	// A prefixed view so that closing this Store does not close the shared bucket.
	return blob.PrefixedBucket(m.b, "")
}

// openAzure opens an azblob:// URL reading the AZURE_STORAGE_* environment at each call (gocloud's default
// opener reads it once per process). Like gocloud, it never sends a SAS token to a domain named in the URL.
func openAzure(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	opts := azureblob.NewDefaultServiceURLOptions()
	if opts.SASToken != "" && (u.Query().Has("domain") || u.Query().Has("protocol") || u.Query().Has("localemu")) {
		return nil, errors.New("refusing to send AZURE_STORAGE_SAS_TOKEN to a domain or protocol given in the URL; set AZURE_STORAGE_DOMAIN instead")
	}
	o := &azureblob.URLOpener{MakeClient: azureblob.NewDefaultClient, ServiceURLOptions: *opts}
	return o.OpenBucketURL(ctx, u)
}

// URL is the store URL with credentials masked.
func (s *Store) URL() string { return s.url }

// Location is the parsed URL.
func (s *Store) Location() Location { return s.loc }

// Close releases the store.
func (s *Store) Close() error {
	err := s.bucket.Close()
	if s.closeClient != nil {
		err = errors.Join(err, s.closeClient())
	}
	return err
}

// List returns every object below the prefix, recursively, sorted by key, straight from the store (never a cache).
func (s *Store) List(ctx context.Context) ([]Object, error) {
	if s.loc.Scheme == "file" {
		if out, ok, err := s.listDir(ctx); ok || err != nil {
			sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
			return out, err
		}
	}
	return s.listParallel(ctx)
}

// ListTemp returns the temporary objects below the prefix ("*.tmp": fileblob's and etcd-dr's in-progress files,
// which List hides, and any other writer's), with their times, so that leftovers of killed writers can be removed.
func (s *Store) ListTemp(ctx context.Context) ([]Object, error) {
	var out []Object
	it := s.bucket.List(nil)
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.wrap("list", "", err)
		}
		if !o.IsDir && strings.HasSuffix(o.Key, ".tmp") {
			out = append(out, Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Attributes returns one object's size, time and metadata.
func (s *Store) Attributes(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return Object{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Object{}, s.wrap("stat", key, err)
	}
	md := a.Metadata
	if path, ok := s.LocalPath(key); ok {
		// etcd-dr's own writes carry an extended attribute; older ones (and fileblob's) a sidecar, read above.
		xmd, found, err := metadataFromXattr(path)
		if err != nil {
			return Object{}, s.wrap("stat", key, err)
		}
		if found {
			md = xmd
		}
	}
	if md == nil {
		md = map[string]string{}
	}
	return Object{Key: key, Size: a.Size, ModTime: a.ModTime, Metadata: md}, nil
}

// FetchMetadata fills Metadata of the objects selected by want, several requests at a time.
func (s *Store) FetchMetadata(ctx context.Context, objs []Object, want func(Object) bool) error {
	const parallel = 16
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range objs {
		if want != nil && !want(objs[i]) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(o *Object) {
			defer func() { <-sem; wg.Done() }()
			a, err := s.Attributes(ctx, o.Key)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
			o.Metadata = a.Metadata
		}(&objs[i])
	}
	wg.Wait()
	return first
}

// NewReader streams one object. The caller closes it.
func (s *Store) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return &reader{r: r, s: s, key: key}, nil
}

// NewRangeReader streams length bytes of one object from offset (length < 0: to the end): one ranged GET on
// object stores, a seek on a directory. The caller closes it.
func (s *Store) NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return &reader{r: r, s: s, key: key}, nil
}

type reader struct {
	r   *blob.Reader
	s   *Store
	key string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.s.wrap("read", r.key, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.r.Close() }

// LocalPath returns the filesystem path of key when the store is a directory (file://), so that callers may
// copy it with the kernel's copy_file_range. ok is false for every other backend.
func (s *Store) LocalPath(key string) (path string, ok bool) {
	if s.loc.Scheme != "file" || CheckKey(key) != nil || !plainFileKey(key) {
		return "", false
	}
	p := filepath.Join(s.loc.Bucket, filepath.FromSlash(key))
	if s.loc.Prefix != "" {
		p = filepath.Join(s.loc.Bucket, filepath.FromSlash(s.loc.Prefix), filepath.FromSlash(key))
	}
	return p, true
}

// plainFileKey reports whether fileblob stores key under the path spelled by its own characters: it hex-escapes
// control characters, "//" and a trailing "/", which only it knows how to find again.
func plainFileKey(key string) bool {
	if strings.Contains(key, "//") || strings.HasSuffix(key, "/") {
		return false
	}
	for _, c := range key {
		if c < 32 {
			return false
		}
	}
	return true
}

// Delete removes one object.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

// CheckKey refuses keys that could escape the store prefix or are not plain relative paths.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty object key")
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("object key %q is absolute; keys are relative to the store prefix", key)
	case strings.ContainsAny(key, "\\\x00"):
		return fmt.Errorf("object key %q contains a backslash or NUL", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("object key %q has a %q segment that could escape the store prefix", key, seg)
		}
	}
	return nil
}

func asNotFound(err error) error {
	if os.IsNotExist(err) {
		return ErrNotFound
	}
	return err
}

// wrap turns a backend error into one that names the store and object and says what to do, never a credential.
func (s *Store) wrap(op, key string, err error) error {
	where := s.url
	if key != "" {
		where = s.url + " object " + key
	}
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s %s: %w (check the path/bucket name in --store)", op, where, err)
	}
	if msg := err.Error(); s.loc.Scheme == "s3" && strings.Contains(msg, "get credentials: ") {
		// The SDK found no credentials in its chain (environment, profile, web identity, then the EC2 metadata
		// endpoint, whose refusal off EC2 would otherwise read as "access denied").
		why := msg[strings.Index(msg, "get credentials: ")+len("get credentials: "):]
		return fmt.Errorf("%s %s: %w: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE naming a profile of ~/.aws/credentials), or run with an IAM role (instance profile, or IRSA's AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE); the AWS SDK said: %s",
			op, where, ErrNoCredentials, scrub(why))
	}
	if s.loc.Scheme == "gs" {
		if why, ok := gcsUnreachable(err); ok {
			return fmt.Errorf("%s %s: %s", op, where, why)
		}
	}
	code := gcerrors.Code(err)
	var status interface{ HTTPStatusCode() int }
	if code == gcerrors.Unknown && errors.As(err, &status) {
		switch status.HTTPStatusCode() {
		case 401, 403:
			code = gcerrors.PermissionDenied
		case 404:
			code = gcerrors.NotFound
		}
	}
	switch code {
	case gcerrors.NotFound:
		if key == "" {
			return fmt.Errorf("%s %s: bucket %q %w (check the bucket name in --store)", op, where, s.loc.Bucket, ErrNotFound)
		}
		return fmt.Errorf("%s %s: %w", op, where, ErrNotFound)
	case gcerrors.PermissionDenied:
		return fmt.Errorf("%s %s: %w (check the credentials in the environment, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY)", op, where, ErrAccessDenied)
	case gcerrors.Canceled:
		return fmt.Errorf("%s %s: %w", op, where, context.Canceled)
	}
	return fmt.Errorf("%s %s: %s", op, where, scrub(err.Error()))
}

// scrub drops anything that looks like a credential from a backend message.
func scrub(msg string) string { return RedactText(msg) }
