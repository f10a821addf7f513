#include "daemon/daemon.h"

#include <filesystem>
#include <iostream>

#include "api/api_service.h"
#include "api/http/server.h"
#include "common/log.h"
#include "control/endpoint_service.h"
#include "control/security_group_index.h"
#include "control/store_indexes.h"
#include "daemon/sns_outbox.h"
#include "dns/dns_server.h"
#include "notify/notifier.h"
#include "reconciler/forwarder_sink.h"
#include "reconciler/net_host_provisioner.h"
#include "reconciler/reconciler.h"
#include "store/store.h"

namespace lp::daemon {

namespace {
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
  std::unique_ptr<dns::DnsServer> dns;
  std::unique_ptr<reconciler::HostNetwork> host;
  std::unique_ptr<reconciler::DataplaneSink> dataplane;
  std::unique_ptr<reconciler::NameSink> names;
  std::unique_ptr<reconciler::Reconciler> reconciler;
  std::unique_ptr<SnsOutbox> outbox;  // outlives notifier
  std::unique_ptr<notify::Notifier> notifier;
};

Daemon::Daemon(Config config) : config_(std::move(config)), parts_(std::make_unique<Parts>()) {}
Daemon::~Daemon() { stop(); }

Status Daemon::start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.stateDir, ec);
  if (ec) return Status("InternalError", "cannot create state directory " + config_.stateDir + ": " + ec.message());
  LP_ASSIGN_OR_RETURN(parts_->store, store::openSqliteStore(config_.stateDir, control::storeIndexer()));
  parts_->ctx = std::make_unique<control::ControlContext>(
      control::ControlContext{*parts_->store, parts_->clock, parts_->random, config_.region, config_.limits});
  LP_RETURN_IF_ERROR(control::syncAwsServiceCatalog(*parts_->ctx));
  LP_RETURN_IF_ERROR(control::rebuildSecurityGroupNameIndex(*parts_->ctx));
  parts_->api = std::make_unique<api::ApiService>(*parts_->ctx, config_.stateDir + "/dataplane-counters.json");

  if (config_.dataplane) {
    dataplane::ForwarderOptions fwd;
    fwd.loops = config_.dataplaneWorkers;
    fwd.endpointBytesPerSecond = static_cast<uint64_t>(config_.endpointBandwidthGbps * 1e9 / 8);
    LP_ASSIGN_OR_RETURN(auto forwarder, dataplane::Forwarder::start(fwd));
    parts_->dataplane = std::make_unique<reconciler::ForwarderSink>(std::move(forwarder), config_.stateDir);
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
  std::cout << "linkplane listening on http://" << listen.first << ":" << port << std::endl;
  return Status::Ok();
}

void Daemon::stop() {
  if (!parts_) return;
  if (parts_->notifier) parts_->notifier->stop();
  parts_->notifier.reset();
  if (parts_->http) parts_->http->stop();
  parts_->http.reset();
  if (parts_->reconciler) parts_->reconciler->teardown();
  parts_->reconciler.reset();
  parts_->names.reset();
  parts_->dataplane.reset();
  parts_->host.reset();
  if (parts_->dns) parts_->dns->stop();
  parts_->dns.reset();
  parts_->api.reset();
  parts_->ctx.reset();
  parts_->store.reset();
}

}  // namespace lp::daemon
