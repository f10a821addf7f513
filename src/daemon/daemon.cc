#include "daemon/daemon.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/audit_log.h"
#include "api/api_service.h"
#include "api/http/server.h"
#include "common/log.h"
#include "control/endpoint_service.h"
#include "control/security_group_index.h"
#include "control/store_indexes.h"
#include "control/vpc_network_service.h"
#include "daemon/https_backends.h"
#include "daemon/metrics_sampler.h"
#include "daemon/prometheus_page.h"
#include "daemon/reload.h"
#include "daemon/sd_notify.h"
#include "daemon/sns_outbox.h"
#include "daemon/state_directory.h"
#include "daemon/status_socket.h"
#include "daemon/subscriber_check.h"
#include "dns/dns_server.h"
#include "metrics/series_store.h"
#include "model/endpoint.h"
#include "notify/notifier.h"
#include "reconciler/bpf_fastpath_sink.h"
#include "reconciler/fastpath_sink.h"
#if LP_HAVE_BPF
#include "reconciler/bpf_fastpath_kernel.h"
#endif
#include "reconciler/forwarder_sink.h"
#include "reconciler/instance_supervisor.h"
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
  // The state directory's lock (lockStateDirectory): first, so it is released last,
  // after every part that uses the directory has stopped.
  struct StateLock {
    int fd = -1;
    StateLock& operator=(int f) {
      fd = f;
      return *this;
    }
    ~StateLock() {
      if (fd >= 0) ::close(fd);
    }
  } stateLock;
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<control::ControlContext> ctx;
  std::unique_ptr<audit::AuditLog> audit;  // outlives the API
  std::unique_ptr<api::ApiService> api;
  std::unique_ptr<api::HttpServer> http;
  std::unique_ptr<api::HttpServer> https;
  std::unique_ptr<dns::DnsServer> dns;
  std::unique_ptr<reconciler::HostNetwork> host;
  std::unique_ptr<reconciler::DataplaneSink> dataplane;
  std::unique_ptr<reconciler::NameSink> names;
  std::unique_ptr<reconciler::Reconciler> reconciler;
  reconciler::NetHostProvisioner* netHost = nullptr;  // host, when it is the real one
  reconciler::BpfFastPathSink* bpf = nullptr;         // in dataplane, when path = "bpf"
  std::unique_ptr<reconciler::InstanceHost> instanceHost;
  std::unique_ptr<reconciler::InstanceSupervisor> instances;
  std::unique_ptr<metrics::SeriesStore> series;  // outlives the sampler and the API
  std::unique_ptr<metrics::UsageLedger> usage;
  std::unique_ptr<MetricsSampler> sampler;
  std::unique_ptr<DaemonSubscriberCheck> subscriberCheck;  // outlives the API and the notifier
  std::unique_ptr<SnsOutbox> outbox;  // outlives notifier
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<StatusSocket> statusSocket;
  std::unique_ptr<api::HttpServer> prometheus;  // stopped first: its collectors read the parts above
  std::string prometheusUrl;
  // Backends of linkplane's own services (proxy-v2 to the HTTPS listener), used where
  // [aws_service_backends] names none: at start and again on every reload.
  std::map<std::string, std::string> ownBackends;
  std::unique_ptr<HttpsBackends> httpsBackends;  // the TLS relay to https:// [aws_service_backends]
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string url;
};

std::string Daemon::statusSocketPath(const std::string& stateDir) { return stateDir + "/linkplane.sock"; }

Daemon::Daemon(Config config) : config_(std::move(config)), parts_(std::make_unique<Parts>()) {}
Daemon::~Daemon() { stop(); }

Status Daemon::start() {
  LP_ASSIGN_OR_RETURN(std::string stateDirWarning, prepareStateDirectory(config_.stateDir));
  if (!stateDirWarning.empty()) LP_LOG_WARN("{}", stateDirWarning);
  LP_ASSIGN_OR_RETURN(parts_->stateLock, lockStateDirectory(config_.stateDir));
  LP_ASSIGN_OR_RETURN(parts_->store, store::openSqliteStore(config_.stateDir, control::storeIndexer()));
  parts_->ctx = std::make_unique<control::ControlContext>(*parts_->store, parts_->clock, parts_->random,
                                                         config_.region, config_.limits);
  parts_->ctx->dataplaneIdleTimeoutSeconds = config_.idleTimeoutSeconds;
  LP_ASSIGN_OR_RETURN(parts_->subscriberCheck, DaemonSubscriberCheck::create(*parts_->ctx, config_));
  control::setSubscriberEndpointCheck(*parts_->ctx, parts_->subscriberCheck.get());
  if (config_.dataplane) {
    // CloudWatch figures: sampled from the forwarder's counters, kept in the state directory.
    metrics::SeriesStoreOptions mopts;
    mopts.retention = std::chrono::hours(24 * config_.metricsRetentionDays);
    mopts.maxPoints = static_cast<size_t>(config_.metricsMaxPoints);
    mopts.path = config_.stateDir + "/metrics.jsonl";
    parts_->series = std::make_unique<metrics::SeriesStore>(parts_->clock, mopts);
    LP_RETURN_IF_ERROR(parts_->series->load());
  }
  api::ApiOptions apiOptions;
  apiOptions.throttle = config_.throttle;
  if (apiOptions.throttle->maxInFlight == 0) apiOptions.throttle->maxInFlight = std::max(1, config_.apiThreads * 3 / 4);
  apiOptions.auditDir = config_.stateDir + "/audit";
  apiOptions.consoleSignIn = config_.consoleSignIn;
  LP_ASSIGN_OR_RETURN(parts_->audit, audit::AuditLog::open({apiOptions.auditDir, config_.auditMaxFileBytes,
                                                            config_.auditMaxFiles, config_.auditRefusedPerSecond},
                                                           parts_->clock));
  apiOptions.audit = parts_->audit.get();
  parts_->api = std::make_unique<api::ApiService>(*parts_->ctx, parts_->series.get(), std::move(apiOptions));
  LP_RETURN_IF_ERROR(startHttps());
  parts_->ctx->replaceSettings({config_.region, config_.limits});  // with the own services' backends
  LP_RETURN_IF_ERROR(control::syncAwsServiceCatalog(*parts_->ctx));
  LP_RETURN_IF_ERROR(control::rebuildSecurityGroupNameIndex(*parts_->ctx));
  LP_RETURN_IF_ERROR(control::addMissingVpcNetworkDefaults(*parts_->ctx));

  if (config_.dataplane) {
    dataplane::ForwarderOptions fwd;
    fwd.loops = config_.dataplaneWorkers;
    fwd.endpointBytesPerSecond = static_cast<uint64_t>(config_.endpointBandwidthGbps * 1e9 / 8);
    LP_ASSIGN_OR_RETURN(auto forwarder, dataplane::Forwarder::start(fwd));
    // The BPF fast path (path = "bpf"), or the kernel's conntrack fast path, in
    // front of the forwarder (docs/dataplane.md). "auto" takes the BPF path when its
    // probe passes (it alone meets 0.8x of the direct path's new connections per
    // second: docs/dataplane.md, Numbers) and the conntrack path where it cannot run.
    bool bpf = config_.dataplanePath == "bpf";
#if LP_HAVE_BPF
    if (bpf || config_.dataplanePath == "auto") {
      Status probe = reconciler::probeBpfFastpath();
      if (!probe.ok() && bpf)
        return Status("InvalidConfig", "dataplane.path = \"bpf\", but the BPF fast path cannot run here: " +
                                           probe.toString() + " (path = \"kernel\" or \"splice\" do without it)");
      if (probe.ok()) {
        LP_LOG_INFO("dataplane: the BPF fast path's probe passed{}", bpf ? "" : "; path = \"auto\" takes it");
        bpf = true;
      } else {
        LP_LOG_WARN("dataplane: the BPF fast path cannot run here, path = \"auto\" takes the conntrack path: {}",
                    probe.toString());
      }
    }
    if (!bpf) reconciler::sweepBpfLeftovers(config_.stateDir);
#else
    if (bpf)
      return Status("InvalidConfig",
                    "dataplane.path = \"bpf\", but this build has no BPF fast path (built without clang-14 or "
                    "libbpf-dev: LP_BPF in CMake, scripts/install-deps.sh)");
#endif
    reconciler::FastPathOptions fast;
    // On the BPF path the conntrack sink only hands everything to the forwarder
    // (and counts the security groups' drops); a start after a kernel-path run
    // removes that run's links first.
    fast.mode = bpf ? "splice" : config_.dataplanePath;
    fast.inFrontOfBpf = bpf;
    fast.idleTimeoutSeconds = config_.idleTimeoutSeconds;
    fast.maxConnectionsPerInterface = static_cast<uint32_t>(config_.maxConnectionsPerInterface);
    fast.endpointBytesPerSecond = fwd.endpointBytesPerSecond;
    fast.stateDir = config_.stateDir;
    LP_ASSIGN_OR_RETURN(auto sink, reconciler::FastPathSink::make(
                                       std::make_unique<reconciler::ForwarderSink>(std::move(forwarder), config_.stateDir),
                                       fast));
    // The hour of usage under way is checkpointed every 6 sampling rounds (a minute
    // at the default 10 s): what a SIGKILL can lose of it.
    parts_->usage = std::make_unique<metrics::UsageLedger>(parts_->clock, config_.stateDir + "/usage.jsonl",
                                                           std::chrono::seconds(6 * config_.metricsSampleSeconds));
    LP_RETURN_IF_ERROR(parts_->usage->load());
    parts_->sampler = std::make_unique<MetricsSampler>(*parts_->ctx, *sink, *parts_->series,
                                                       *parts_->usage,
                                                       std::chrono::seconds(config_.metricsSampleSeconds));
    auto net = std::make_unique<reconciler::NetHostProvisioner>(config_.stateDir);
    parts_->netHost = net.get();
    parts_->host = std::move(net);
    if (bpf) {
#if LP_HAVE_BPF
      LP_ASSIGN_OR_RETURN(auto exec, reconciler::makeKernelBpfExecutor(
                                         config_.stateDir, static_cast<uint32_t>(config_.bpfConnectionTable)));
      reconciler::BpfSinkOptions bopts;
      bopts.stateDir = config_.stateDir;
      bopts.endpointBytesPerSecond = fwd.endpointBytesPerSecond;
      bopts.maxConnectionsPerInterface = fast.maxConnectionsPerInterface;
      bopts.idleTimeout = std::chrono::seconds(config_.idleTimeoutSeconds);
      reconciler::FastPathSink* conntrackSink = sink.get();
      auto b = std::make_unique<reconciler::BpfFastPathSink>(std::move(sink), std::move(exec), bopts);
      conntrackSink->setExtraCounters(b.get());  // the counters file and the sampler read the conntrack sink
      parts_->bpf = b.get();
      // The sink plans from the VPCs' workloads: the host network hands them over.
      parts_->host = std::make_unique<reconciler::BpfWorkloadTap>(std::move(parts_->host), *b);
      parts_->dataplane = std::move(b);
#endif
    } else {
      parts_->dataplane = std::move(sink);
    }
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
  parts_->instanceHost = reconciler::makeInstanceHost(config_.stateDir, config_.dataplane);
  parts_->instances =
      std::make_unique<reconciler::InstanceSupervisor>(*parts_->store, *parts_->instanceHost, parts_->clock);
  parts_->instances->start();
  if (parts_->sampler) parts_->sampler->start();

  // The status socket listens before the API does, so `linkplane status` finds a
  // daemon whose API answers up; it answers (serve) once the URLs it reports are known.
  parts_->statusSocket =
      std::make_unique<StatusSocket>(statusSocketPath(config_.stateDir), [this] { return statusJson(); });
  if (Status st = parts_->statusSocket->listen(); !st.ok()) {
    LP_LOG_WARN("{} (linkplane status will not reach this daemon)", st.toString());
    parts_->statusSocket.reset();
  }
  LP_ASSIGN_OR_RETURN(auto listen, parseListen(config_.listen));
  api::HttpServerOptions opts;
  opts.address = listen.first;
  opts.port = listen.second;
  opts.threads = config_.apiThreads;
  if (config_.throttle.enabled) opts.refusalHoldMax = std::chrono::milliseconds(config_.throttle.refusalHoldMaxMs);
  parts_->http = std::make_unique<api::HttpServer>(*parts_->api, opts);
  LP_ASSIGN_OR_RETURN(uint16_t port, parts_->http->start());
  parts_->subscriberCheck->addListener(listen.first, port);
  // Notifications: after the API (subscribers reach its SubscribeURL), stopped first.
  notify::NotifierOptions nopts;
  nopts.stateDir = config_.stateDir;
  nopts.caFile = config_.snsCaFile;
  nopts.addressCheck = [gate = &parts_->subscriberCheck->gate()](const sockaddr* a, socklen_t len) {
    return gate->refuseAddress(a, len);
  };
  std::string host = listen.first == "0.0.0.0" ? "127.0.0.1" : listen.first == "::" ? "::1" : listen.first;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  nopts.publicBaseUrl = "http://" + host + ":" + std::to_string(port);
  parts_->outbox = std::make_unique<SnsOutbox>(*parts_->ctx);
  LP_ASSIGN_OR_RETURN(parts_->notifier, notify::Notifier::create(*parts_->outbox, parts_->clock, nopts));
  parts_->notifier->start();
  parts_->url = "http://" + listen.first + ":" + std::to_string(port);
  startPrometheus();
  if (parts_->statusSocket) parts_->statusSocket->serve();
  std::cout << "linkplane listening on " << parts_->url << std::endl;
  if (Status st = sdNotify("READY=1\nSTATUS=serving on " + parts_->url + "\nMAINPID=" + std::to_string(getpid()));
      !st.ok())
    LP_LOG_WARN("{}", st.toString());
  return Status::Ok();
}

void Daemon::reload(const Config& fileAsRead) {
  (void)sdNotify("RELOADING=1");
  Config file = fileAsRead;
  if (parts_->httpsBackends) {
    auto relayed = parts_->httpsBackends->apply(file.httpsBackends);
    if (!relayed.ok()) {
      LP_LOG_ERROR("reload: https service backends not applied, keeping the running ones: {}",
                   relayed.status().toString());
      file.httpsBackends = config_.httpsBackends;
    }
    const auto& now = parts_->httpsBackends->backends();
    file.region.serviceBackends.insert(now.begin(), now.end());
  }
  file.region.serviceBackends.insert(parts_->ownBackends.begin(), parts_->ownBackends.end());  // as at start
  ConfigChanges c = diffConfig(config_, file);
  if (c.applied.empty() && c.needsRestart.empty()) LP_LOG_INFO("reload: the configuration has not changed");
  for (const auto& line : c.applied) LP_LOG_INFO("reload: applied {}", line);
  for (const auto& line : c.needsRestart) LP_LOG_WARN("reload: needs a restart, still running with the old value: {}", line);
  if (c.next.logLevel != config_.logLevel) spdlog::set_level(spdlog::level::from_str(c.next.logLevel));
  // Only the live keys: the status socket's thread reads the rest of config_ (and
  // none of these). Accounts, backends and limits reach the API threads as the next
  // settings snapshot; requests running now finish with the one they hold.
  config_.logLevel = c.next.logLevel;
  config_.limits = c.next.limits;
  config_.region.accounts = c.next.region.accounts;
  config_.region.serviceBackends = c.next.region.serviceBackends;
  config_.httpsBackends = c.next.httpsBackends;
  parts_->ctx->replaceSettings({config_.region, config_.limits});
  if (size_t ended = parts_->api->settingsChanged())
    LP_LOG_INFO("reload: ended {} console session(s) signed in with a key that was removed or changed", ended);
  // A changed backend reaches the endpoints' listeners: the catalog's services change
  // in the store and the reconciler replans the endpoints to them.
  if (c.backendsChanged) {
    if (Status st = control::syncAwsServiceCatalog(*parts_->ctx); !st.ok())
      LP_LOG_ERROR("reload: service backends not written to the catalog: {}", st.toString());
  }
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
  if (!parts_->prometheusUrl.empty()) j["prometheus"] = parts_->prometheusUrl;
  j["state_dir"] = config_.stateDir;
  j["dataplane"] = config_.dataplane;
  if (config_.dataplane) j["dataplane_path"] = parts_->bpf ? "bpf" : config_.dataplanePath;
  if (parts_->bpf) j["bpf_fastpath"] = json::parse(parts_->bpf->statusJson());
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

// GET /metrics for operators. Not worth failing the start for: a port that is
// taken gets a warning, as the DNS host listener does.
void Daemon::startPrometheus() {
  if (config_.prometheusListen.empty()) return;
  auto listen = parseListen(config_.prometheusListen);
  if (!listen.ok()) return;  // loadConfig checked it
  auto& registry = metrics::prom::processRegistry();
  addDaemonCollectors(registry, {parts_->sampler.get(), parts_->reconciler.get(), parts_->dns.get(), parts_->started,
                                 LP_VERSION});
  api::HttpServerOptions opts;
  opts.address = listen->first;
  opts.port = listen->second;
  opts.threads = 1;
  opts.maxBodyBytes = 4096;
  opts.requestTimeoutSeconds = 10;
  auto server = std::make_unique<api::HttpServer>(
      [&registry](const api::HttpRequest& r) { return prometheusResponse(registry, r); }, opts);
  auto port = server->start();
  if (!port.ok()) {
    LP_LOG_WARN("metrics: no Prometheus listener on {} ({})", config_.prometheusListen, port.status().toString());
    removeDaemonCollectors(registry);
    return;
  }
  if (parts_->subscriberCheck) parts_->subscriberCheck->addListener(listen->first, *port);
  parts_->prometheus = std::move(server);
  parts_->prometheusUrl = "http://" + listen->first + ":" + std::to_string(*port) + "/metrics";
  LP_LOG_INFO("linkplane metrics on {}", parts_->prometheusUrl);
}

Status Daemon::startHttps() {
  LP_ASSIGN_OR_RETURN(auto ca, tls::LocalCa::loadOrCreate(config_.stateDir));
  LP_RETURN_IF_ERROR(writeCaBundle(config_.stateDir + "/ca-bundle.crt", ca.certificatePem()));
  // https:// service backends: through the TLS relay, before the own services' backends.
  parts_->httpsBackends = std::make_unique<HttpsBackends>(ca, config_.region.name, config_.idleTimeoutSeconds);
  LP_ASSIGN_OR_RETURN(auto relayed, parts_->httpsBackends->apply(config_.httpsBackends));
  config_.region.serviceBackends.insert(relayed.begin(), relayed.end());
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
  parts_->subscriberCheck->addListener(listen.first, port);
  // Endpoints to linkplane's own services reach this listener from the host
  // namespace, PROXY v2 first so requests are attributed to their endpoint.
  std::string host = listen.first == "0.0.0.0" ? "127.0.0.1" : listen.first;
  for (const auto& svc : tls::ownServices()) parts_->ownBackends[svc] = "proxy-v2:" + host + ":" + std::to_string(port);
  config_.region.serviceBackends.insert(parts_->ownBackends.begin(), parts_->ownBackends.end());  // the operator's choice wins
  LP_LOG_INFO("linkplane listening on https://{}:{} (local CA {}/ca.pem)", listen.first, port, config_.stateDir);
  return Status::Ok();
}

void Daemon::stop() {
  if (!parts_) return;
  if (parts_->prometheus) {
    parts_->prometheus->stop();
    parts_->prometheus.reset();
    removeDaemonCollectors(metrics::prom::processRegistry());
  }
  if (parts_->statusSocket) parts_->statusSocket->stop();
  parts_->statusSocket.reset();
  if (parts_->notifier) parts_->notifier->stop();
  parts_->notifier.reset();
  if (parts_->http) parts_->http->stop();
  parts_->http.reset();
  if (parts_->https) parts_->https->stop();
  parts_->https.reset();
  if (parts_->httpsBackends) parts_->httpsBackends->stop();
  parts_->httpsBackends.reset();
  if (parts_->sampler) parts_->sampler->stop();
  parts_->sampler.reset();
  if (parts_->instances) {
    // Running instances keep their namespaces (and processes) across a clean stop.
    auto keep = parts_->instances->namespacesToKeep();
    parts_->instances->stop();
    if (parts_->netHost) parts_->netHost->keepOnTeardown(std::move(keep));
  }
  parts_->instances.reset();
  parts_->instanceHost.reset();
  if (parts_->reconciler) parts_->reconciler->teardown();
  parts_->reconciler.reset();
  parts_->names.reset();
  parts_->bpf = nullptr;
  parts_->dataplane.reset();
  parts_->netHost = nullptr;
  parts_->host.reset();
  if (parts_->dns) parts_->dns->stop();
  parts_->dns.reset();
  parts_->api.reset();
  parts_->series.reset();
  parts_->usage.reset();
  if (parts_->ctx) control::setSubscriberEndpointCheck(*parts_->ctx, nullptr);
  parts_->ctx.reset();
  parts_->store.reset();
}

}  // namespace lp::daemon
