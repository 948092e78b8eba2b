package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"
)

// gs:// is opened here rather than through gocloud's URL opener, which (v0.47) prints credential warnings on
// stdout (breaking --output json), caches its client for the whole process (so a changed STORAGE_EMULATOR_HOST is
// ignored) and leaves the Google client's default retry, which retries a refused connection until the context
// ends: with no deadline on streams, a hang on an unreachable endpoint.

const (
	// gcsAttempts bounds each request's tries (about 8 s of backoff at most): enough to ride out a 503 or a
	// rate limit, short enough that an unreachable endpoint fails within seconds instead of hanging.
	gcsAttempts = 6
	// gcsTokenTimeout bounds fetching the first token from the GCE metadata server: off GCP (or with a
	// GCE_METADATA_HOST that does not answer) nothing else would.
	gcsTokenTimeout = 10 * time.Second
)

// gcsCredentialHint says what to set when gs:// has no usable credentials.
const gcsCredentialHint = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run on GCP with a service account; for an emulator (fake-gcs-server) set STORAGE_EMULATOR_HOST=host:port"

// openGCS opens a GCS bucket with a client of its own: no authentication against an emulator
// (STORAGE_EMULATOR_HOST), else the application default credentials, checked before the first request.
func openGCS(ctx context.Context, bucket string) (*blob.Bucket, func() error, error) {
	var opts []option.ClientOption
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		opts = append(opts, option.WithoutAuthentication()) // the client itself points at the emulator
	} else {
		creds, err := gcsCredentials(ctx)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, option.WithCredentials(creds))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: Google Cloud Storage client: %s", ErrBadURL, RedactText(err.Error()))
	}
	client.SetRetry(storage.WithMaxAttempts(gcsAttempts),
		storage.WithBackoff(gax.Backoff{Initial: 250 * time.Millisecond, Max: 4 * time.Second, Multiplier: 2}))
	b, err := gcsblob.OpenBucket(ctx, nil, bucket, &gcsblob.Options{Client: client})
	if err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("%w: %s", ErrBadURL, RedactText(err.Error()))
	}
	return b, client.Close, nil // gcsblob does not close a client it was given
}

// gcsCredentials finds the application default credentials. Credentials of the GCE metadata server (no key
// file) are tried once, with a deadline, so that a metadata server that is absent or does not answer is a clear
// error now rather than retries later.
func gcsCredentials(ctx context.Context) (*google.Credentials, error) {
	creds, err := google.FindDefaultCredentials(ctx, storage.ScopeFullControl)
	if err != nil {
		return nil, fmt.Errorf("%w: no Google Cloud credentials (%s): %s", ErrNoCredentials, scrub(err.Error()), gcsCredentialHint)
	}
	if len(creds.JSON) > 0 {
		return creds, nil // a key file: the client signs or exchanges it itself
	}
	done := make(chan error, 1)
	go func() { _, err := creds.TokenSource.Token(); done <- err }() // the token is cached for the client's first request
	tctx, cancel := context.WithTimeout(ctx, gcsTokenTimeout)
	defer cancel()
	select {
	case err = <-done:
	case <-tctx.Done():
		err = fmt.Errorf("no answer within %s", gcsTokenTimeout)
	}
	if err != nil {
		where := "the GCE metadata server"
		if h := os.Getenv("GCE_METADATA_HOST"); h != "" {
			where += " at GCE_METADATA_HOST=" + h
		}
		return nil, fmt.Errorf("%w: no Google Cloud credentials: %s gave no token (%s) — %s", ErrNoCredentials, where, scrub(shortErr(err)), gcsCredentialHint)
	}
	return creds, nil
}

// gcsUnreachable words a request that never reached the GCS endpoint (refused, no route, no such host), naming
// the endpoint and what to set; ok is false for any other error.
func gcsUnreachable(err error) (string, bool) {
	msg := err.Error()
	found := false
	for _, s := range []string{"connection refused", "no such host", "no route to host", "network is unreachable", "i/o timeout"} {
		if strings.Contains(msg, s) {
			found = true
			break
		}
	}
	if !found {
		return "", false
	}
	if h := os.Getenv("STORAGE_EMULATOR_HOST"); h != "" {
		return fmt.Sprintf("cannot reach the GCS emulator at STORAGE_EMULATOR_HOST=%s (%s): start it, or set STORAGE_EMULATOR_HOST to the host:port it listens on (unset it for Google Cloud Storage)", h, shortErr(err)), true
	}
	return fmt.Sprintf("cannot reach Google Cloud Storage (%s): check the network or proxy (HTTPS_PROXY); for an emulator set STORAGE_EMULATOR_HOST=host:port", shortErr(err)), true
}

// shortErr is the network error itself ("dial tcp HOST: connect: connection refused"), without the request URL
// and retry wrapping around it.
func shortErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return err.Error()
}
