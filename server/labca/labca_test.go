package labca_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/labca"
	"github.com/corsquickcheck/corscheck/server/probe"
)

func TestWriteCA(t *testing.T) {
	ca, err := labca.New(time.Now(), []string{"node.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteCA(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate:\n%s", path, b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA {
		t.Error("the lab certificate is not a CA")
	}
	if string(ca.CertPEM()) != string(b) {
		t.Error("CertPEM differs from the written file")
	}
	// The file is what probe --ca-file loads.
	if _, err := probe.LoadCAFile(path); err != nil {
		t.Errorf("LoadCAFile: %v", err)
	}
}

// The server certificate and key written to files make a pair that a client trusting the CA
// accepts for the names the authority was made for, and for no other name; the key file is
// the owner's only.
func TestWriteServerCert(t *testing.T) {
	ca, err := labca.New(time.Now(), []string{"node.localhost", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := ca.WriteServerCert(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	for name, ok := range map[string]bool{"node.localhost": true, "localhost": true, "192.0.2.7": true, "127.0.0.1": true, "other.localhost": false} {
		_, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		if (err == nil) != ok {
			t.Errorf("verify for %s: %v, want accepted %v", name, err, ok)
		}
	}
}
