// Daemon configuration, from a TOML file or the built-in default (two documented
// demo accounts, 127.0.0.1 only). Value type.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "api/console/signin_limiter.h"
#include "api/throttle.h"
#include "common/status.h"
#include "control/context.h"
#include "metrics/usage.h"
#include "model/region.h"
#include "tls/upstream.h"

namespace lp::daemon {

struct Config {
  model::RegionConfig region;
  control::Limits limits;
  std::string listen = "127.0.0.1:4566";
  // tls_listen: the HTTPS API listener ("ADDR:PORT"; port 0 = any free port; "" =
  // none), with a certificate from the local CA in the state directory. Endpoints
  // to linkplane's own services (ec2, elasticloadbalancing, sns, sts, monitoring)
  // with no [aws_service_backends] entry forward to it.
  std::string tlsListen = "127.0.0.1:0";
  std::string stateDir = "/var/lib/linkplane";
  std::string logLevel = "info";
  // Handlers run on these threads and block on the store's fsync; concurrent
  // writers share one (group commit) only if there are threads to wait in it.
  int apiThreads = 8;
  // Provision namespaces, bridges and nftables (needs root); false = control plane only.
  bool dataplane = true;
  // [dataplane] endpoint_bandwidth_gbps: cap per endpoint per zone (0 = none);
  // workers: forwarding loops (0 = one per core).
  double endpointBandwidthGbps = 10.0;
  int dataplaneWorkers = 0;
  // [dataplane] path: "auto" (the BPF fast path, reconciler/bpf_fastpath_sink.h, when
  // its start-up probe passes, else the kernel's conntrack NAT where the kernel has
  // what it needs, else splice; either fast path only for target groups without
  // PROXY protocol), "bpf" (the daemon refuses to start when the probe fails),
  // "kernel" (conntrack NAT; refuses to start when the kernel lacks it) or "splice"
  // (every connection through the user-space forwarder). docs/dataplane.md.
  std::string dataplanePath = "auto";
  // [dataplane] idle_timeout_seconds: a fast-path connection without packets for
  // this long is dropped (PrivateLink: 350 s); shortened by tests.
  int idleTimeoutSeconds = 350;
  // [dataplane] max_connections_per_interface: open fast-path connections per
  // endpoint interface; past it a new connection is refused with a reset and
  // counted in PacketsDropped (0 = no limit). The source translation gives each
  // load balancer node ~64,000 ports per target, so one interface cannot use many
  // more than this anyway.
  int64_t maxConnectionsPerInterface = 50'000;
  // [dataplane] bpf_connection_table: entries of the BPF fast path's connection
  // table, two per connection; the host-wide limit of live connections on that path
  // is derived from it (a little under half: net/bpf/bpf_fastpath.h,
  // connectionLimitFor, logged at start), past which a new connection is refused
  // with a reset and counted in PacketsDropped. Pinned maps of another size that a
  // restart adopts keep their size until a clean stop.
  int64_t bpfConnectionTable = 262'144;
  // The VPC resolvers' host listener (names visible from every VPC, for tools on
  // the host): "ADDR:PORT", "" = none. Kept on loopback; when the port is taken
  // the daemon logs a warning and serves the VPC resolvers only.
  std::string dnsListen = "127.0.0.1:5353";
  // Where the resolvers send names they do not own ("ADDR:PORT", IPv4, asked from
  // the host's namespace); "" = answer those REFUSED.
  std::string dnsUpstream;
  // [sns] ca_file: PEM file of the CAs that https subscribers' certificates must
  // chain to (absolute path); "" = the system trust store.
  std::string snsCaFile;
  // [aws_service_backends] entries that are https:// upstreams (`kms = { url =
  // "https://HOST:PORT", ca_file = "/abs/ca.pem", server_name = "..." }`), served
  // through the TLS relay (tls/relay.h); plain "HOST:PORT" ones are in
  // region.serviceBackends.
  std::map<std::string, tls::HttpsUpstream> httpsBackends;
  // [sns] subscriber_networks: CIDRs of loopback/private addresses SNS may deliver
  // to (model/subscriber_networks.h). The built-in default (no config file, the
  // demo) allows 127.0.0.0/8; a config file allows none unless it says so.
  std::vector<std::string> snsSubscriberNetworks;
  // [metrics] sample_seconds: how often the data plane's counters are read into
  // the CloudWatch series (1 to 60); retention_days: how long minute points are
  // kept (CloudWatch keeps them 15 days); max_points: cap on points held.
  // prometheus_listen: where GET /metrics is served for operators ("ADDR:PORT";
  // "" = nowhere). Unsigned and across accounts, so keep it on loopback or a
  // management network; when the port is taken the daemon logs a warning and runs on.
  std::string prometheusListen = "127.0.0.1:9466";
  int metricsSampleSeconds = 10;
  int metricsRetentionDays = 15;
  int64_t metricsMaxPoints = 2'000'000;
  // [pricing] endpoint_zone_hour_usd, and data_tiers_gb / data_tiers_usd_per_gb
  // (same length, cumulative GB per month; the last bound may be 0 = no bound):
  // what `linkplane usage` charges. Defaults: AWS's us-east-1 rates (usage.h).
  metrics::Prices prices;
  // [throttle]: per-account token buckets for mutating and read calls (api/throttle.h).
  api::ThrottleConfig throttle;
  // [audit] max_file_bytes / max_files: the audit log (<state_dir>/audit/) rotates
  // at that size and keeps that many files; refused_per_second: records of refused
  // requests kept per second (audit/audit_log.h).
  int64_t auditMaxFileBytes = 64LL * 1024 * 1024;
  int auditMaxFiles = 10;
  int auditRefusedPerSecond = 50;
  // [console] signin_free_failures, signin_first_delay_seconds,
  // signin_max_delay_seconds, signin_forget_seconds, signin_max_entries: the
  // console's sign-in backoff per address and per access key (signin_limiter.h).
  api::console::SignInLimits consoleSignIn;
};

Config defaultConfig();
// Reads a TOML file over the defaults; a clear error for anything malformed, and
// for a file that holds secret keys and is open to group or others (as ssh
// refuses such key files).
Result<Config> loadConfig(const std::string& path);
// Parses "ADDR:PORT".
Result<std::pair<std::string, uint16_t>> parseListen(const std::string& s);

}  // namespace lp::daemon
