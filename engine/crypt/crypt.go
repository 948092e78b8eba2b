// Package crypt encrypts and decrypts backup objects with age (https://age-encryption.org): objects are
// encrypted to one or more recipients after compression, and their names end in .age.
package crypt

import (
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Decrypter opens an encrypted (.age) stream: the one hook type every reader of backups takes (download,
// validate, restore, snapinfo, the API). nil means encrypted objects are refused.
type Decrypter func(io.Reader) (io.Reader, error)

// Encrypter wraps a stream so that what is written to it is encrypted: the hook type of every writer (snapshot,
// daemon). Close finishes the encrypted stream and does not close the underlying writer.
type Encrypter func(io.Writer) (io.WriteCloser, error)

// ParseRecipients parses age X25519 recipients ("age1...").
func ParseRecipients(list []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fault.Bad("age recipient", s, "%v (want age1..., as printed by age-keygen)", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// NewEncrypter returns a function that encrypts a stream to the recipients; nil when there are none.
// Close of the returned writer finishes the age stream and does not close w.
func NewEncrypter(recipients []string) (Encrypter, error) {
	rs, err := ParseRecipients(recipients)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return func(w io.Writer) (io.WriteCloser, error) { return age.Encrypt(w, rs...) }, nil
}

// NewDecrypter reads age identities from file (as written by age-keygen) and returns a function that decrypts
// a stream with them.
func NewDecrypter(file string) (Decrypter, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fault.Bad("age identity file", file, "%v", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fault.Bad("age identity file", file, "%v (want an age identity file, as written by age-keygen)", err)
	}
	return func(r io.Reader) (io.Reader, error) {
		d, err := age.Decrypt(r, ids...)
		if err != nil {
			return nil, fmt.Errorf("age: %w (is the identity the key for this backup's recipient?)", err)
		}
		return d, nil
	}, nil
}
