#include "notify/signing.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/strings.h"

namespace lp::notify {

namespace {

constexpr char kKeyFile[] = "sns-signing-key.pem";
constexpr char kCertFile[] = "sns-signing-cert.pem";

Status sslError(std::string_view what) { return Status("InternalError", "sns signing key: " + std::string(what)); }

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes atomically (temp file + rename) with the given mode.
Status writeFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return sslError("cannot write " + tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      return sslError("cannot write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sslError("cannot rename " + tmp);
  return Status::Ok();
}

std::string bioString(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  return std::string(p, static_cast<size_t>(n));
}

}  // namespace

struct SigningKey::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

SigningKey::SigningKey(std::unique_ptr<Key> key, std::string certPem)
    : key_(std::move(key)), certPem_(std::move(certPem)) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(certPem_.data(), certPem_.size(), md, &len, EVP_sha256(), nullptr);
  certName_ =
      "SimpleNotificationService-" + toHex(std::string_view(reinterpret_cast<char*>(md), len)).substr(0, 32) + ".pem";
}

SigningKey::~SigningKey() = default;

Result<std::unique_ptr<SigningKey>> SigningKey::loadOrCreate(const std::string& dir) {
  std::string keyPath = (std::filesystem::path(dir) / kKeyFile).string();
  std::string certPath = (std::filesystem::path(dir) / kCertFile).string();
  auto keyPem = readFile(keyPath);
  auto certPem = readFile(certPath);
  auto key = std::make_unique<Key>();
  if (keyPem && certPem) {
    BIO* b = BIO_new_mem_buf(keyPem->data(), static_cast<int>(keyPem->size()));
    key->pkey = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    if (!key->pkey) return sslError("cannot read " + keyPath);
    return std::unique_ptr<SigningKey>(new SigningKey(std::move(key), *certPem));
  }

  key->pkey = EVP_RSA_gen(2048);
  if (!key->pkey) return sslError("RSA key generation failed");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set_int64(
      X509_get_serialNumber(cert),
      static_cast<int64_t>(std::chrono::system_clock::now().time_since_epoch().count() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, key->pkey);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("linkplane"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sns.linkplane.local"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (X509_sign(cert, key->pkey, EVP_sha256()) <= 0) {
    X509_free(cert);
    return sslError("certificate signing failed");
  }
  BIO* kb = BIO_new(BIO_s_mem());
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key->pkey, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(cb, cert);
  std::string newKey = bioString(kb), newCert = bioString(cb);
  BIO_free(kb);
  BIO_free(cb);
  X509_free(cert);
  // The certificate goes last: a crash between the two writes regenerates both.
  LP_RETURN_IF_ERROR(writeFile(keyPath, newKey, 0600));
  LP_RETURN_IF_ERROR(writeFile(certPath, newCert, 0644));
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(key), newCert));
}

Result<std::string> SigningKey::sign(std::string_view text, std::string_view version) const {
  const EVP_MD* md = version == "2" ? EVP_sha256() : EVP_sha1();
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(c, nullptr, md, nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(c, nullptr, &len, reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(c, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(c);
  if (!ok) return sslError("signing failed");
  return base64Encode(sig);
}

}  // namespace lp::notify
