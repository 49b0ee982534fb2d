#include "test/support/tls_certs.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace parallax::test {
namespace {

struct pkey_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct x509_free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct bio_free {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct bn_free {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

[[noreturn]] void fail(const std::string& what) {
  std::string message = "test PKI: " + what;
  char reason[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  throw std::runtime_error(message);
}

pkey_ptr make_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("EC P-256 key generation");
  return key;
}

std::string random_hex(int bytes) {
  unsigned char raw[16];
  if (bytes > 16 || RAND_bytes(raw, bytes) != 1) fail("RAND_bytes");
  std::string out;
  char digit[3];
  for (int i = 0; i < bytes; ++i) {
    std::snprintf(digit, sizeof digit, "%02x", raw[i]);
    out += digit;
  }
  return out;
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.c_str());
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, bytes, -1, -1, 0) != 1) {
    fail(std::string("subject field ") + field);
  }
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + value);
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) fail("adding extension " + value);
}

// A certificate for `key` named `common_name`, valid from an hour ago for a week, with a random
// serial. The issuer name and extensions are filled in by the caller.
x509_ptr make_unsigned_cert(EVP_PKEY* key, const std::string& common_name) {
  x509_ptr cert(X509_new());
  if (!cert) fail("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_set_version");
  bn_ptr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    fail("serial number");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600) == nullptr) {
    fail("validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  add_name_entry(subject, "O", "parallax tests");
  add_name_entry(subject, "CN", common_name);
  if (X509_set_pubkey(cert.get(), key) != 1) fail("X509_set_pubkey");
  return cert;
}

void sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) fail("X509_sign");
}

// A leaf certificate for a fresh key, signed by the CA.
std::pair<x509_ptr, pkey_ptr> make_leaf(X509* ca_cert, EVP_PKEY* ca_key,
                                        const std::string& common_name,
                                        const std::string& extended_usage,
                                        const std::string& subject_alt_names) {
  pkey_ptr key = make_key();
  x509_ptr cert = make_unsigned_cert(key.get(), common_name);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1) fail("issuer");
  add_extension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca_cert, NID_ext_key_usage, extended_usage);
  add_extension(cert.get(), ca_cert, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca_cert, NID_authority_key_identifier, "keyid:always");
  if (!subject_alt_names.empty()) {
    add_extension(cert.get(), ca_cert, NID_subject_alt_name, subject_alt_names);
  }
  sign(cert.get(), ca_key);
  return {std::move(cert), std::move(key)};
}

void write_cert(const std::string& path, X509* cert) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("writing " + path);
}

void write_key(const std::string& path, EVP_PKEY* key) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("writing " + path);
  }
  ::chmod(path.c_str(), 0600);
}

} // namespace

test_pki make_test_pki(const std::string& dir, const std::vector<std::string>& extra_dns) {
  std::filesystem::create_directories(dir);
  test_pki pki;
  pki.dir = dir;
  pki.ca_cert_path = dir + "/ca.pem";
  pki.ca_key_path = dir + "/ca-key.pem";
  pki.server_cert_path = dir + "/server.pem";
  pki.server_key_path = dir + "/server-key.pem";
  pki.client_cert_path = dir + "/client.pem";
  pki.client_key_path = dir + "/client-key.pem";

  // A random suffix keeps two CAs from ever sharing a subject name.
  pkey_ptr ca_key = make_key();
  x509_ptr ca = make_unsigned_cert(ca_key.get(), "parallax test CA " + random_hex(8));
  if (X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) != 1) fail("CA issuer");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  sign(ca.get(), ca_key.get());

  std::string alt_names = "DNS:localhost,IP:127.0.0.1";
  for (const auto& name : extra_dns) {
    if (name.empty() || name.find_first_of(", \t") != std::string::npos) {
      throw std::invalid_argument("test PKI: bad DNS name '" + name + "'");
    }
    alt_names += ",DNS:" + name;
  }
  auto [server, server_key] =
      make_leaf(ca.get(), ca_key.get(), "localhost", "serverAuth", alt_names);
  auto [client, client_key] =
      make_leaf(ca.get(), ca_key.get(), "parallax test client", "clientAuth", "");

  write_cert(pki.ca_cert_path, ca.get());
  write_key(pki.ca_key_path, ca_key.get());
  write_cert(pki.server_cert_path, server.get());
  write_key(pki.server_key_path, server_key.get());
  write_cert(pki.client_cert_path, client.get());
  write_key(pki.client_key_path, client_key.get());
  return pki;
}

} // namespace parallax::test
