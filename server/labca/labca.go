// Package labca is the certificate authority of the lab and the Finesse desktop simulator: a CA
// and one server certificate for the names they answer for, made in memory for every run, so
// that no private key ever reaches the disk and nothing needs to be trusted beyond the run. A
// client trusts the lab by its CA certificate (CertPEM, WriteCA, Pool), as a browser would trust
// a company CA.
package labca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"time"
)

// Authority is a certificate authority and the one server certificate it signed.
type Authority struct {
	certPEM []byte
	pool    *x509.CertPool
	leaf    tls.Certificate
}

// certLifetime is long enough for a demo left running for days, and far below the 398 days
// Chromium accepts for a server certificate.
const certLifetime = 7 * 24 * time.Hour

// New makes a CA valid from now and a server certificate for localhost, the loopback addresses
// and hosts (names or IP addresses).
func New(now time.Time, hosts []string) (*Authority, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab CA key: %w", err)
	}
	// Serial numbers are left nil: CreateCertificate then picks a random one, as RFC 5280 asks.
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "corscheck lab CA", Organization: []string{"CORS Quick Check lab"}},
		NotBefore:             now.Add(-time.Hour), // tolerate a clock a little behind
		NotAfter:              now.Add(certLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("lab CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("lab CA certificate: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab server key: %w", err)
	}
	dnsNames, ips := []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, h)
		}
	}
	leafTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost", Organization: []string{"CORS Quick Check lab"}},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("lab server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("lab server certificate: %w", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &Authority{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:    pool,
		leaf:    tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey, Leaf: leaf},
	}, nil
}

// CertPEM returns the CA's certificate in PEM form.
func (a *Authority) CertPEM() []byte { return append([]byte(nil), a.certPEM...) }

// Pool returns a pool holding only the CA, for a client's RootCAs.
func (a *Authority) Pool() *x509.CertPool { return a.pool }

// ServerConfig is a TLS configuration that serves the server certificate, TLS 1.2 and later.
func (a *Authority) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{a.leaf}, MinVersion: tls.VersionTLS12}
}

// WriteCA writes the CA's certificate to path in PEM form, for corscheck probe --ca-file or
// curl --cacert.
func (a *Authority) WriteCA(path string) error {
	return os.WriteFile(path, a.certPEM, 0o644)
}

// WriteServerCert writes the server certificate and its key (PEM) to certFile and keyFile, so
// that a server of one's own (nginx) can serve the lab's names with it; the key file is readable
// by its owner only.
func (a *Authority) WriteServerCert(certFile, keyFile string) error {
	key, err := x509.MarshalPKCS8PrivateKey(a.leaf.PrivateKey)
	if err != nil {
		return err
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.leaf.Certificate[0]})
	if err := os.WriteFile(certFile, cert, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
}
