package probe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// testPKI is a certificate authority with one intermediate, for TLS tests: the probe trusts it
// with RootCAs, Chromium through an NSS database (browsertest.TrustCA). Leaves can be made wrong
// in each way a field certificate can be.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey *ecdsa.PrivateKey
	pool              *x509.CertPool
	rootPEM           []byte
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{}
	now := time.Now()
	p.rootKey = newKey(t)
	rootTmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "corscheck test root CA"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	p.root = create(t, rootTmpl, rootTmpl, &p.rootKey.PublicKey, p.rootKey)
	p.interKey = newKey(t)
	interTmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "corscheck test intermediate CA"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	p.inter = create(t, interTmpl, p.root, &p.interKey.PublicKey, p.rootKey)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.root)
	p.rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw})
	return p
}

// leafSpec says how a server certificate is made.
type leafSpec struct {
	names     []string // DNS SANs
	ips       []net.IP // IP SANs
	cn        string   // subject common name (default: the first name)
	notBefore time.Time
	notAfter  time.Time
	eku       []x509.ExtKeyUsage // default serverAuth
	keyUsage  x509.KeyUsage      // default digitalSignature
	// selfSigned signs the leaf with its own key; otherwise the intermediate signs it and the
	// chain holds both, unless noIntermediate leaves the intermediate out.
	selfSigned     bool
	noIntermediate bool
	// intermediate, when set, makes the leaf's intermediate a new one (under the root) changed
	// by this function, instead of the PKI's own.
	intermediate func(*x509.Certificate)
	// leaf changes the leaf's template last (a signature algorithm, an extension, the CA flag).
	leaf    func(*x509.Certificate)
	rsaBits int // an RSA key of this size instead of ECDSA P-256
}

func (p *testPKI) leaf(t testing.TB, s leafSpec) tls.Certificate {
	t.Helper()
	now := time.Now()
	if s.notBefore.IsZero() {
		s.notBefore = now.Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = now.Add(24 * time.Hour)
	}
	if s.eku == nil {
		s.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if s.keyUsage == 0 {
		s.keyUsage = x509.KeyUsageDigitalSignature
	}
	if s.cn == "" && len(s.names) > 0 {
		s.cn = s.names[0]
	}
	var key crypto.Signer = newKey(t)
	if s.rsaBits > 0 {
		k, err := rsa.GenerateKey(rand.Reader, s.rsaBits)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: s.cn},
		NotBefore: s.notBefore, NotAfter: s.notAfter, DNSNames: s.names, IPAddresses: s.ips,
		ExtKeyUsage: s.eku, KeyUsage: s.keyUsage}
	if s.leaf != nil {
		s.leaf(tmpl)
	}
	if s.selfSigned {
		c := create(t, tmpl, tmpl, key.Public(), key)
		return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}
	}
	inter, interKey := p.inter, crypto.Signer(p.interKey)
	if s.intermediate != nil {
		k := newKey(t)
		it := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "corscheck test intermediate " + s.cn},
			NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		s.intermediate(it)
		inter, interKey = create(t, it, p.root, &k.PublicKey, p.rootKey), k
	}
	c := create(t, tmpl, inter, key.Public(), interKey)
	chain := [][]byte{c.Raw, inter.Raw}
	if s.noIntermediate {
		chain = chain[:1]
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: c}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
