// api_bench: API throughput and latency of signed EC2/STS Query requests against
// one or two endpoints (linkplane and moto's server), N client threads, each with
// one keep-alive HTTP/1.1 connection over plain blocking sockets.
//
//   api_bench --target NAME=http://127.0.0.1:PORT [--target ...] [--seconds S]
//             [--clients 1,8]
//
// For every scenario and client count it runs for S seconds (bounded also by a
// request cap), then prints one table: requests/s, p50 and p99 latency per target
// and the ratio of the first target's requests/s to the second's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/sigv4.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "AKIALINKPLANEPROVIDR";
constexpr const char* kSecret = "provider/secret/key/0000000000000000000000";
constexpr const char* kRegion = "us-east-1";
constexpr size_t kMaxRequestsPerThread = 2'000'000;

struct Target {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

std::string amzDate() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// A complete signed HTTP/1.1 POST of a form body.
std::string signedRequest(const Target& t, std::string_view service, const std::string& body) {
  std::string host = t.host + ":" + std::to_string(t.port);
  std::string date = amzDate();
  lp::api::HeaderList headers = {
      {"host", host}, {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}, {"x-amz-date", date}};
  lp::api::SigV4Header auth;
  auth.credential = {kKey, date.substr(0, 8), kRegion, std::string(service)};
  auth.signedHeaders = {"content-type", "host", "x-amz-date"};
  std::string creq = lp::api::canonicalRequest("POST", "/", "", headers, auth.signedHeaders, lp::api::sha256Hex(body));
  std::string sig = lp::api::computeSignature(kSecret, auth, date, creq);
  std::string req = "POST / HTTP/1.1\r\nHost: " + host +
                    "\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nX-Amz-Date: " + date +
                    "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" + kKey + "/" + auth.credential.date + "/" +
                    kRegion + "/" + std::string(service) +
                    "/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + sig +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return req;
}

// One keep-alive connection; reconnects when the server closes it.
class Connection {
 public:
  explicit Connection(const Target& t) : t_(t) {}
  ~Connection() { disconnect(); }

  // Sends req and reads one response; returns the HTTP status (0 on I/O failure)
  // and the body in *body.
  int roundTrip(const std::string& req, std::string* body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0 && !connect()) return 0;
      if (sendAll(req)) {
        int status = readResponse(body);
        if (status > 0) return status;
      }
      disconnect();  // stale keep-alive connection: retry once on a new one
    }
    return 0;
  }

 private:
  bool connect() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(t_.port);
    inet_pton(AF_INET, t_.host.c_str(), &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      disconnect();
      return false;
    }
    buf_.clear();
    return true;
  }
  void disconnect() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool sendAll(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool fill() {
    char chunk[16384];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int readResponse(std::string* body) {
    size_t hdrEnd;
    while ((hdrEnd = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return 0;
    std::string head = buf_.substr(0, hdrEnd);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int status = 0;
    if (head.size() > 12) status = std::atoi(head.c_str() + 9);
    bool http10 = head.rfind("http/1.0", 0) == 0;
    bool close = head.find("\r\nconnection: close") != std::string::npos ||
                 (http10 && head.find("\r\nconnection: keep-alive") == std::string::npos);
    auto cl = head.find("\r\ncontent-length:");
    if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      std::cerr << "api_bench: chunked responses are not supported\n";
      return 0;
    }
    buf_.erase(0, hdrEnd + 4);
    if (cl != std::string::npos) {
      size_t len = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
      while (buf_.size() < len)
        if (!fill()) return 0;
      body->assign(buf_, 0, len);
      buf_.erase(0, len);
    } else {
      while (fill()) {
      }
      *body = std::move(buf_);
      buf_.clear();
      close = true;
    }
    if (close) disconnect();
    return status;
  }

  const Target& t_;
  int fd_ = -1;
  std::string buf_;
};

std::optional<std::string> xmlValue(const std::string& doc, const std::string& tag) {
  auto b = doc.find("<" + tag + ">");
  if (b == std::string::npos) return std::nullopt;
  b += tag.size() + 2;
  auto e = doc.find("</" + tag + ">", b);
  if (e == std::string::npos) return std::nullopt;
  return doc.substr(b, e - b);
}

struct Scenario {
  std::string name;
  std::string service;
  // The form body of request i of client c; vpc is the VPC made in setup.
  std::string (*body)(const std::string& vpc, int run, int client, size_t i);
};

const Scenario kScenarios[] = {
    {"DescribeVpcs", "ec2",
     [](const std::string&, int, int, size_t) { return std::string("Action=DescribeVpcs&Version=2016-11-15"); }},
    {"CreateSecurityGroup", "ec2",
     [](const std::string& vpc, int run, int c, size_t i) {
       return "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=bench-" + std::to_string(run) + "-" +
              std::to_string(c) + "-" + std::to_string(i) + "&GroupDescription=bench&VpcId=" + vpc;
     }},
    // A write whose validation is cheap (one VPC, one tag overwritten): the store's write path.
    {"CreateTags", "ec2",
     [](const std::string& vpc, int, int c, size_t i) {
       return "Action=CreateTags&Version=2016-11-15&ResourceId.1=" + vpc + "&Tag.1.Key=bench-" + std::to_string(c) +
              "&Tag.1.Value=" + std::to_string(i);
     }},
    {"GetCallerIdentity", "sts",
     [](const std::string&, int, int, size_t) { return std::string("Action=GetCallerIdentity&Version=2011-06-15"); }},
};

struct Result {
  double rps = 0;
  double p50ms = 0, p99ms = 0;
  size_t ok = 0, errors = 0;
};

Result run(const Target& t, const Scenario& s, const std::string& vpc, int runId, int clients, double seconds) {
  std::vector<std::vector<double>> lat(clients);
  std::vector<size_t> errors(clients, 0);
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(t);
      std::string body;
      lat[c].reserve(1 << 16);
      while (!go.load()) std::this_thread::yield();
      for (size_t i = 0; i < kMaxRequestsPerThread && !stop.load(std::memory_order_relaxed); ++i) {
        std::string req = signedRequest(t, s.service, s.body(vpc, runId, c, i));
        auto t0 = Clock::now();
        int status = conn.roundTrip(req, &body);
        auto t1 = Clock::now();
        if (status == 200) {
          lat[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          if (++errors[c] == 1 && status != 0)
            std::cerr << "api_bench: " << t.name << " " << s.name << ": HTTP " << status << ": " << body.substr(0, 300)
                      << "\n";
          if (status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  Result r;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), lat[c].begin(), lat[c].end());
    r.errors += errors[c];
  }
  r.ok = all.size();
  r.rps = static_cast<double>(r.ok) / elapsed;
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    r.p50ms = all[all.size() / 2];
    r.p99ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

std::optional<Target> parseTarget(const std::string& arg) {
  // NAME=http://HOST:PORT
  auto eq = arg.find('=');
  if (eq == std::string::npos) return std::nullopt;
  std::string url = arg.substr(eq + 1);
  if (url.rfind("http://", 0) == 0) url = url.substr(7);
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto colon = url.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  Target t{arg.substr(0, eq), url.substr(0, colon), static_cast<uint16_t>(std::atoi(url.c_str() + colon + 1))};
  if (t.port == 0) return std::nullopt;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Target> targets;
  double seconds = 5;
  std::vector<int> clientCounts = {1, 8};
  std::string only;  // one scenario, for a focused run
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--target" && i + 1 < argc) {
      auto t = parseTarget(argv[++i]);
      if (!t) {
        std::cerr << "api_bench: --target NAME=http://HOST:PORT\n";
        return 2;
      }
      targets.push_back(*t);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::clamp(std::atof(argv[++i]), 0.1, 60.0);
    } else if (a == "--clients" && i + 1 < argc) {
      clientCounts.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p < list.size();) {
        auto q = list.find(',', p);
        clientCounts.push_back(std::clamp(std::atoi(list.substr(p, q - p).c_str()), 1, 64));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    } else if (a == "--scenario" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::cerr << "usage: api_bench --target NAME=http://HOST:PORT [--target ...] [--seconds S] [--clients 1,8]"
                   " [--scenario NAME]\n";
      return 2;
    }
  }
  if (targets.empty()) {
    std::cerr << "api_bench: no --target\n";
    return 2;
  }

  // Setup: one VPC per target for the security groups.
  std::vector<std::string> vpcs;
  for (auto& t : targets) {
    Connection conn(t);
    std::string body;
    int status =
        conn.roundTrip(signedRequest(t, "ec2", "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.200.0.0%2F16"), &body);
    auto vpc = xmlValue(body, "vpcId");
    if (status != 200 || !vpc) {
      std::cerr << "api_bench: " << t.name << ": CreateVpc failed (HTTP " << status << "): " << body.substr(0, 300)
                << "\n";
      return 1;
    }
    vpcs.push_back(*vpc);
  }

  struct Row {
    std::string scenario;
    int clients;
    std::vector<Result> results;
  };
  std::vector<Row> rows;
  int runId = 0;
  bool anyErrors = false;
  for (auto& s : kScenarios) {
    if (!only.empty() && only != s.name) continue;
    for (int clients : clientCounts) {
      Row row{s.name, clients, {}};
      ++runId;
      for (size_t i = 0; i < targets.size(); ++i) {
        std::cerr << "api_bench: " << s.name << " x" << clients << " against " << targets[i].name << "...\n";
        row.results.push_back(run(targets[i], s, vpcs[i], runId, clients, seconds));
        // Only the first target's failures fail the run (moto's server answers 500
        // now and then under concurrency; that is its measurement, not our bug).
        if (i == 0) anyErrors |= row.results.back().errors > 0;
      }
      rows.push_back(row);
    }
  }

  std::printf("\n%-20s %7s", "scenario", "clients");
  for (auto& t : targets)
    std::printf(" | %-10s %9s %8s %8s %6s", t.name.c_str(), "req/s", "p50 ms", "p99 ms", "errors");
  if (targets.size() >= 2) std::printf(" | %s/%s", targets[0].name.c_str(), targets[1].name.c_str());
  std::printf("\n");
  for (auto& row : rows) {
    std::printf("%-20s %7d", row.scenario.c_str(), row.clients);
    for (auto& r : row.results) std::printf(" | %-10s %9.0f %8.2f %8.2f %6zu", "", r.rps, r.p50ms, r.p99ms, r.errors);
    if (row.results.size() >= 2)
      std::printf(" | %.1fx", row.results[1].rps > 0 ? row.results[0].rps / row.results[1].rps : 0.0);
    std::printf("\n");
  }
  return anyErrors ? 1 : 0;
}
