// SigningKey: the RSA key and self-signed certificate the notifier signs SNS
// messages with (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA, as SNS).
// Generated once and kept in the state directory (sns-signing-key.pem, mode
// 0600, and sns-signing-cert.pem), so signatures stay verifiable across
// restarts. Immutable after loading; sign() may run on any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lp::notify {

class SigningKey {
 public:
  // Loads the key pair from dir, generating and saving it on first use.
  static Result<std::unique_ptr<SigningKey>> loadOrCreate(const std::string& dir);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // Base64 signature of text; version "1" (SHA1) or "2" (SHA256).
  Result<std::string> sign(std::string_view text, std::string_view version) const;
  const std::string& certPem() const { return certPem_; }
  // The file name of the certificate in the SigningCertURL:
  // SimpleNotificationService-<first 32 hex of the certificate's SHA-256>.pem
  const std::string& certName() const { return certName_; }

 private:
  struct Key;
  SigningKey(std::unique_ptr<Key> key, std::string certPem);
  std::unique_ptr<Key> key_;
  std::string certPem_;
  std::string certName_;
};

}  // namespace lp::notify
