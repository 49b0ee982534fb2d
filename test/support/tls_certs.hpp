#pragma once

#include <string>
#include <vector>

#include "test/support/temp_dir.hpp"

namespace parallax::test {

// Paths of a throwaway PKI written as PEM files: a CA plus a server and a client certificate
// signed by it. Every call to make_test_pki creates a new, unrelated CA.
struct test_pki {
  std::string dir;              // directory holding every file below
  std::string ca_cert_path;     // self-signed CA certificate (trust anchor for clients)
  std::string ca_key_path;      // the CA's private key
  std::string server_cert_path; // leaf for DNS:localhost, IP:127.0.0.1 and the extra names
  std::string server_key_path;  // the server certificate's private key
  std::string client_cert_path; // leaf with extendedKeyUsage clientAuth, for mutual TLS
  std::string client_key_path;  // the client certificate's private key
};

// Generates a fresh EC P-256 CA and leaves signed by it into `dir` (created if missing).
// The server certificate's SAN holds DNS:localhost, IP:127.0.0.1 and each of `extra_dns`.
// Throws std::runtime_error with OpenSSL's reason on failure.
test_pki make_test_pki(const std::string& dir, const std::vector<std::string>& extra_dns = {});

} // namespace parallax::test
