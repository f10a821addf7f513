#include "tls/local_ca.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace lp::tls {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status sslError(const std::string& what) {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return Status("InternalError", what + ": " + buf);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> toPem(EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) return sslError("key to PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> toPem(X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(b.get(), cert)) return sslError("certificate to PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

PKey keyFrom(const std::string& pem) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PKey(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
}

Cert certFrom(const std::string& pem) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
}

Status addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return sslError("extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? Status::Ok() : sslError("add extension " + value);
}

// A certificate with a random serial and the validity given, subject CN=cn, its
// public key from key; issuer and signature are the caller's.
Result<Cert> newCertificate(EVP_PKEY* key, const std::string& cn, long fromSeconds, long toSeconds) {
  Cert c(X509_new());
  if (!c) return sslError("X509_new");
  X509_set_version(c.get(), 2);
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> serial(BN_new());
  if (!BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get())))
    return sslError("serial");
  X509_gmtime_adj(X509_getm_notBefore(c.get()), fromSeconds);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), toSeconds);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("linkplane"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  if (!X509_set_pubkey(c.get(), key)) return sslError("set public key");
  return c;
}

bool isIpv4Literal(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789.") == std::string::npos;
}

Status writeFile(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  std::filesystem::remove(tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status("InternalError", "cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) return Status("InternalError", "cannot write " + path);
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& ownServices() {
  static const std::vector<std::string> kOwn = {"ec2", "elasticloadbalancing", "sns", "sts", "monitoring"};
  return kOwn;
}

std::vector<std::string> apiCertificateNames(const std::string& region) {
  std::vector<std::string> names;
  for (const auto& s : ownServices()) {
    names.push_back(s + "." + region + ".amazonaws.com");
    // vpce-<id>-<label>[-<zone>].<svc>.<region>.vpce.amazonaws.com: one label below.
    names.push_back("*." + s + "." + region + ".vpce.amazonaws.com");
  }
  names.push_back("sts.amazonaws.com");
  names.push_back("localhost");
  names.push_back("127.0.0.1");
  return names;
}

Result<LocalCa> LocalCa::loadOrCreate(const std::string& dir) {
  const std::string certPath = dir + "/ca.pem", keyPath = dir + "/ca.key";
  const bool haveCert = std::filesystem::exists(certPath), haveKey = std::filesystem::exists(keyPath);
  if (haveCert && haveKey) {
    std::string certPem = readFile(certPath), keyPem = readFile(keyPath);
    if (!certFrom(certPem) || !keyFrom(keyPem))
      return Status("InternalError", "the local CA in " + dir + " (ca.pem, ca.key) cannot be read");
    ::chmod(keyPath.c_str(), 0600);
    return LocalCa(std::move(certPem), std::move(keyPem));
  }
  if (haveCert || haveKey)
    return Status("InternalError", "the local CA in " + dir + " is half there (ca.pem or ca.key missing); "
                                   "restore it or remove both to make a new one");
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return sslError("CA key");
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  LP_ASSIGN_OR_RETURN(Cert c, newCertificate(key.get(), std::string("linkplane local CA (") + host + ")", -3600,
                                             20L * 365 * 24 * 3600));
  X509_set_issuer_name(c.get(), X509_get_subject_name(c.get()));
  LP_RETURN_IF_ERROR(addExtension(c.get(), c.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), c.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), c.get(), NID_subject_key_identifier, "hash"));
  if (!X509_sign(c.get(), key.get(), EVP_sha256())) return sslError("sign CA");
  LP_ASSIGN_OR_RETURN(std::string certPem, toPem(c.get()));
  LP_ASSIGN_OR_RETURN(std::string keyPem, toPem(key.get()));
  LP_RETURN_IF_ERROR(writeFile(keyPath, keyPem, 0600));
  LP_RETURN_IF_ERROR(writeFile(certPath, certPem, 0644));
  return LocalCa(std::move(certPem), std::move(keyPem));
}

Result<IssuedCertificate> LocalCa::issue(const std::vector<std::string>& names) const {
  if (names.empty()) return Status("InvalidParameterValue", "a certificate needs at least one name");
  Cert ca = certFrom(certPem_);
  PKey caKey = keyFrom(keyPem_);
  if (!ca || !caKey) return Status("InternalError", "the local CA cannot be read");
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return sslError("server key");
  LP_ASSIGN_OR_RETURN(Cert c, newCertificate(key.get(), names.front(), -3600, 397L * 24 * 3600));
  X509_set_issuer_name(c.get(), X509_get_subject_name(ca.get()));
  std::string san;
  // Appended piece by piece: `"," + std::string(...)` made GCC 12 at -O3 report a
  // -Wrestrict overlap that cannot happen (GCC PR 105651) in Release builds.
  for (const auto& n : names) {
    if (!san.empty()) san += ',';
    san += isIpv4Literal(n) ? "IP:" : "DNS:";
    san += n;
  }
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_key_usage, "critical,digitalSignature"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_ext_key_usage, "serverAuth"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_subject_key_identifier, "hash"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_authority_key_identifier, "keyid:always"));
  LP_RETURN_IF_ERROR(addExtension(c.get(), ca.get(), NID_subject_alt_name, san));
  if (!X509_sign(c.get(), caKey.get(), EVP_sha256())) return sslError("sign server certificate");
  IssuedCertificate out;
  LP_ASSIGN_OR_RETURN(out.certificatePem, toPem(c.get()));
  LP_ASSIGN_OR_RETURN(out.privateKeyPem, toPem(key.get()));
  return out;
}

}  // namespace lp::tls
