package main

import (
	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine/crypt"
)

// encryptOptions is --encrypt-to: age recipients for new objects.
type encryptOptions struct {
	to []string
}

func (o *encryptOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.to, "encrypt-to", nil, "encrypt new objects to these age recipients (age1..., repeatable); names end in .age")
}

func (o *encryptOptions) encrypter() (crypt.Encrypter, error) {
	enc, err := crypt.NewEncrypter(o.to)
	if err != nil || enc == nil {
		return nil, err
	}
	return enc, nil
}

// identityOptions is --identity: the age identity file that opens encrypted (.age) backups.
type identityOptions struct {
	file string
}

func (o *identityOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.file, "identity", "", "age identity file (as written by age-keygen) to open encrypted (.age) backups")
}

// decrypter opens the identity file; nil without --identity (encrypted objects are then refused).
func (o identityOptions) decrypter() (crypt.Decrypter, error) {
	if o.file == "" {
		return nil, nil
	}
	return crypt.NewDecrypter(o.file)
}
