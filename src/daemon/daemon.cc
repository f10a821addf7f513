#include "daemon/daemon.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api_service.h"
#include "api/http/server.h"
#include "common/log.h"
#include "control/endpoint_service.h"
#include "control/security_group_index.h"
#include "control/store_indexes.h"
#include "control/vpc_network_service.h"
#include "daemon/metrics_sampler.h"
#include "daemon/reload.h"
#include "daemon/sd_notify.h"
#include "daemon/sns_outbox.h"
#include "daemon/status_socket.h"
#include "dns/dns_server.h"
#include "metrics/series_store.h"
#include "model/endpoint.h"
#include "notify/notifier.h"
#include "reconciler/fastpath_sink.h"
#include "reconciler/forwarder_sink.h"
#include "reconciler/net_host_provisioner.h"
#include "reconciler/reconciler.h"
#include "store/state_admin.h"
#include "store/store.h"
#include "tls/local_ca.h"

#ifndef LP_VERSION
#define LP_VERSION "0.0.0"
#endif

namespace lp::daemon {

namespace {

// The system's trust store plus the local CA: what workloads trust (`linkplane
// exec` binds it over /etc/ssl/certs/ca-certificates.crt in the workload).
Status writeCaBundle(const std::string& path, const std::string& caPem) {
  std::ifstream sys("/etc/ssl/certs/ca-certificates.crt");
  std::stringstream bundle;
  bundle << sys.rdbuf();
  std::string text = bundle.str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "# linkplane local CA\n" + caPem;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return Status("InternalError", "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status("InternalError", "cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

// The DNS server as the reconciler's sink for zone snapshots.
class DnsServerSink final : public reconciler::NameSink {
 public:
  explicit DnsServerSink(dns::DnsServer& server) : server_(server) {}
  void publish(std::shared_ptr<const dns::ZoneSnapshot> snapshot) override { server_.publish(std::move(snapshot)); }

 private:
  dns::DnsServer& server_;
};
}  // namespace

struct Daemon::Parts {
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<control::ControlContext> ctx;
  std::unique_ptr<api::ApiService> api;
  std::unique_ptr<api::HttpServer> http;
  std::unique_ptr<api::HttpServer> https;
  std::unique_ptr<dns::DnsServer> dns;
  std::unique_ptr<reconciler::HostNetwork> host;
  std::unique_ptr<reconciler::DataplaneSink> dataplane;
  std::unique_ptr<reconciler::NameSink> names;
  std::unique_ptr<reconciler::Reconciler> reconciler;
  std::unique_ptr<metrics::SeriesStore> series;  // outlives the sampler and the API
  std::unique_ptr<metrics::UsageLedger> usage;
  std::unique_ptr<MetricsSampler> sampler;
  std::unique_ptr<SnsOutbox> outbox;  // outlives notifier
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<StatusSocket> statusSocket;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string url;
};

std::string Daemon::statusSocketPath(const std::string& stateDir) { return stateDir + "/linkplane.sock"; }

Daemon::Daemon(Config config) : config_(std::move(config)), parts_(std::make_unique<Parts>()) {}
Daemon::~Daemon() { stop(); }

Status Daemon::start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.stateDir, ec);
  if (ec) return Status("InternalError", "cannot create state directory " + config_.stateDir + ": " + ec.message());
  LP_ASSIGN_OR_RETURN(parts_->store, store::openSqliteStore(config_.stateDir, control::storeIndexer()));
  parts_->ctx = std::make_unique<control::ControlContext>(
      control::ControlContext{*parts_->store, parts_->clock, parts_->random, config_.region, config_.limits});
  if (config_.dataplane) {
    // CloudWatch figures: sampled from the forwarder's counters, kept in the state directory.
    metrics::SeriesStoreOptions mopts;
    mopts.retention = std::chrono::hours(24 * config_.metricsRetentionDays);
    mopts.maxPoints = static_cast<size_t>(config_.metricsMaxPoints);
    mopts.path = config_.stateDir + "/metrics.jsonl";
    parts_->series = std::make_unique<metrics::SeriesStore>(parts_->clock, mopts);
    LP_RETURN_IF_ERROR(parts_->series->load());
  }
  parts_->api = std::make_unique<api::ApiService>(*parts_->ctx, parts_->series.get(),
                                                  config_.stateDir + "/dataplane-counters.json");
  LP_RETURN_IF_ERROR(startHttps());
  LP_RETURN_IF_ERROR(control::syncAwsServiceCatalog(*parts_->ctx));
  LP_RETURN_IF_ERROR(control::rebuildSecurityGroupNameIndex(*parts_->ctx));
  LP_RETURN_IF_ERROR(control::addMissingVpcNetworkDefaults(*parts_->ctx));

  if (config_.dataplane) {
    dataplane::ForwarderOptions fwd;
    fwd.loops = config_.dataplaneWorkers;
    fwd.endpointBytesPerSecond = static_cast<uint64_t>(config_.endpointBandwidthGbps * 1e9 / 8);
    LP_ASSIGN_OR_RETURN(auto forwarder, dataplane::Forwarder::start(fwd));
    // The kernel fast path in front of the forwarder (docs/dataplane.md).
    reconciler::FastPathOptions fast;
    fast.mode = config_.dataplanePath;
    fast.idleTimeoutSeconds = config_.idleTimeoutSeconds;
    fast.endpointBytesPerSecond = fwd.endpointBytesPerSecond;
    fast.stateDir = config_.stateDir;
    LP_ASSIGN_OR_RETURN(auto sink, reconciler::FastPathSink::make(
                                       std::make_unique<reconciler::ForwarderSink>(std::move(forwarder), config_.stateDir),
                                       fast));
    parts_->usage = std::make_unique<metrics::UsageLedger>(parts_->clock, config_.stateDir + "/usage.jsonl");
    LP_RETURN_IF_ERROR(parts_->usage->load());
    parts_->sampler = std::make_unique<MetricsSampler>(*parts_->ctx, *sink, *parts_->series,
                                                       *parts_->usage,
                                                       std::chrono::seconds(config_.metricsSampleSeconds));
    parts_->dataplane = std::move(sink);
    parts_->host = std::make_unique<reconciler::NetHostProvisioner>(config_.stateDir);
  } else {
    parts_->host = std::make_unique<reconciler::NullHostNetwork>();
  }
  // DNS: the VPC resolvers and the host listener.
  dns::DnsServerOptions dnsOpts;
  if (!config_.dnsListen.empty()) {
    LP_ASSIGN_OR_RETURN(auto dl, parseListen(config_.dnsListen));
    dnsOpts.hostAddress = dl.first;
    dnsOpts.hostPort = dl.second;
  }
  if (!config_.dnsUpstream.empty()) {
    LP_ASSIGN_OR_RETURN(auto up, parseListen(config_.dnsUpstream));
    dnsOpts.upstreamAddress = up.first;
    dnsOpts.upstreamPort = up.second;
  }
  parts_->dns = std::make_unique<dns::DnsServer>(dnsOpts);
  if (Status st = parts_->dns->start(); !st.ok()) {
    LP_LOG_WARN("dns: no host listener on {} ({}); serving the VPC resolvers only", config_.dnsListen, st.toString());
    dnsOpts.hostAddress.clear();
    parts_->dns = std::make_unique<dns::DnsServer>(dnsOpts);
    LP_RETURN_IF_ERROR(parts_->dns->start());
  }
  // The reconciler feeds the host network, the data plane and the DNS server.
  parts_->names = std::make_unique<DnsServerSink>(*parts_->dns);
  reconciler::ReconcilerOptions ropts;
  ropts.region = config_.region.name;
  ropts.vpcResolvers = config_.dataplane;
  parts_->reconciler = std::make_unique<reconciler::Reconciler>(
      *parts_->store, *parts_->host, parts_->dataplane.get(), parts_->names.get(), parts_->clock, ropts);
  parts_->reconciler->start();
  if (parts_->sampler) parts_->sampler->start();

  LP_ASSIGN_OR_RETURN(auto listen, parseListen(config_.listen));
  api::HttpServerOptions opts;
  opts.address = listen.first;
  opts.port = listen.second;
  opts.threads = config_.apiThreads;
  parts_->http = std::make_unique<api::HttpServer>(*parts_->api, opts);
  LP_ASSIGN_OR_RETURN(uint16_t port, parts_->http->start());
  // Notifications: after the API (subscribers reach its SubscribeURL), stopped first.
  notify::NotifierOptions nopts;
  nopts.stateDir = config_.stateDir;
  nopts.caFile = config_.snsCaFile;
  std::string host = listen.first == "0.0.0.0" ? "127.0.0.1" : listen.first == "::" ? "::1" : listen.first;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  nopts.publicBaseUrl = "http://" + host + ":" + std::to_string(port);
  parts_->outbox = std::make_unique<SnsOutbox>(*parts_->ctx);
  LP_ASSIGN_OR_RETURN(parts_->notifier, notify::Notifier::create(*parts_->outbox, parts_->clock, nopts));
  parts_->notifier->start();
  parts_->url = "http://" + listen.first + ":" + std::to_string(port);
  parts_->statusSocket =
      std::make_unique<StatusSocket>(statusSocketPath(config_.stateDir), [this] { return statusJson(); });
  if (Status st = parts_->statusSocket->start(); !st.ok()) {
    LP_LOG_WARN("{} (linkplane status will not reach this daemon)", st.toString());
    parts_->statusSocket.reset();
  }
  std::cout << "linkplane listening on " << parts_->url << std::endl;
  if (Status st = sdNotify("READY=1\nSTATUS=serving on " + parts_->url + "\nMAINPID=" + std::to_string(getpid()));
      !st.ok())
    LP_LOG_WARN("{}", st.toString());
  return Status::Ok();
}

void Daemon::reload(const Config& file) {
  (void)sdNotify("RELOADING=1");
  ConfigChanges c = diffConfig(config_, file);
  if (c.applied.empty() && c.needsRestart.empty()) LP_LOG_INFO("reload: the configuration has not changed");
  for (const auto& line : c.applied) LP_LOG_INFO("reload: applied {}", line);
  for (const auto& line : c.needsRestart) LP_LOG_WARN("reload: needs a restart, still running with the old value: {}", line);
  if (c.next.logLevel != config_.logLevel) spdlog::set_level(spdlog::level::from_str(c.next.logLevel));
  // Only the live keys: the status socket's thread reads the rest of config_.
  config_.logLevel = c.next.logLevel;
  (void)sdNotify("READY=1\nSTATUS=serving on " + parts_->url);
}

std::string Daemon::statusJson() const {
  using nlohmann::json;
  json j;
  j["version"] = LP_VERSION;
  j["pid"] = getpid();
  j["uptime_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - parts_->started).count();
  j["listen"] = parts_->url;
  j["state_dir"] = config_.stateDir;
  j["dataplane"] = config_.dataplane;
  uint64_t bytes = 0;
  for (const char* f : {"/linkplane.db", "/linkplane.db-wal"}) {
    std::error_code ec;
    auto n = std::filesystem::file_size(config_.stateDir + f, ec);
    if (!ec) bytes += n;
  }
  j["state_bytes"] = bytes;
  j["schema_version"] = store::stateSchemaVersion();
  if (!parts_->store) return j.dump();
  j["revision"] = parts_->store->revision();
  // Endpoints the reconciler still works on (pending, deleting) or gave up on
  // (failed, with the reason). pendingAcceptance waits for the provider, not for it.
  json open = json::array();
  size_t count = 0;
  parts_->store->read([&](const store::ReadView& v) {
    v.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
      auto e = json::parse(o.body, nullptr, false);
      if (e.is_discarded()) return true;
      std::string state = e.value("state", "");
      if (state != model::endpoint_state::kPending && state != model::endpoint_state::kDeleting &&
          state != model::endpoint_state::kFailed)
        return true;
      if (++count <= 100) {
        json item = {{"id", o.id}, {"state", state}, {"vpc", e.value("vpcId", "")}};
        if (auto err = e.value("lastErrorMessage", ""); !err.empty()) item["error"] = err;
        open.push_back(std::move(item));
      }
      return true;
    });
  });
  j["endpoints_not_converged"] = count;
  j["endpoints_not_converged_first"] = std::move(open);
  if (parts_->reconciler) {
    auto st = parts_->reconciler->stats();
    j["reconciler"] = {{"queued_keys", parts_->reconciler->queued()},
                       {"passes", st.passes},
                       {"resyncs", st.resyncs},
                       {"status_conflicts", st.statusConflicts}};
  }
  return j.dump();
}

Status Daemon::startHttps() {
  LP_ASSIGN_OR_RETURN(auto ca, tls::LocalCa::loadOrCreate(config_.stateDir));
  LP_RETURN_IF_ERROR(writeCaBundle(config_.stateDir + "/ca-bundle.crt", ca.certificatePem()));
  if (config_.tlsListen.empty()) return Status::Ok();
  LP_ASSIGN_OR_RETURN(auto cert, ca.issue(tls::apiCertificateNames(config_.region.name)));
  LP_ASSIGN_OR_RETURN(auto listen, parseListen(config_.tlsListen));
  api::HttpServerOptions opts;
  opts.address = listen.first;
  opts.port = listen.second;
  opts.threads = std::max(2, config_.apiThreads / 2);
  opts.tlsCertificatePem = cert.certificatePem;
  opts.tlsPrivateKeyPem = cert.privateKeyPem;
  parts_->https = std::make_unique<api::HttpServer>(*parts_->api, opts);
  LP_ASSIGN_OR_RETURN(uint16_t port, parts_->https->start());
  // Endpoints to linkplane's own services reach this listener from the host
  // namespace, PROXY v2 first so requests are attributed to their endpoint.
  std::string host = listen.first == "0.0.0.0" ? "127.0.0.1" : listen.first;
  for (const auto& svc : tls::ownServices()) {
    if (config_.region.serviceBackends.count(svc)) continue;  // the operator's choice wins
    config_.region.serviceBackends[svc] = "proxy-v2:" + host + ":" + std::to_string(port);
  }
  LP_LOG_INFO("linkplane listening on https://{}:{} (local CA {}/ca.pem)", listen.first, port, config_.stateDir);
  return Status::Ok();
}

void Daemon::stop() {
  if (!parts_) return;
  if (parts_->statusSocket) parts_->statusSocket->stop();
  parts_->statusSocket.reset();
  if (parts_->notifier) parts_->notifier->stop();
  parts_->notifier.reset();
  if (parts_->http) parts_->http->stop();
  parts_->http.reset();
  if (parts_->https) parts_->https->stop();
  parts_->https.reset();
  if (parts_->sampler) parts_->sampler->stop();
  parts_->sampler.reset();
  if (parts_->reconciler) parts_->reconciler->teardown();
  parts_->reconciler.reset();
  parts_->names.reset();
  parts_->dataplane.reset();
  parts_->host.reset();
  if (parts_->dns) parts_->dns->stop();
  parts_->dns.reset();
  parts_->api.reset();
  parts_->series.reset();
  parts_->usage.reset();
  parts_->ctx.reset();
  parts_->store.reset();
}

}  // namespace lp::daemon
