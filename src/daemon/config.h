// Daemon configuration, from a TOML file or the built-in default (two documented
// demo accounts, 127.0.0.1 only). Value type.
#pragma once

#include <string>

#include "common/status.h"
#include "control/context.h"
#include "model/region.h"

namespace lp::daemon {

struct Config {
  model::RegionConfig region;
  control::Limits limits;
  std::string listen = "127.0.0.1:4566";
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
};

Config defaultConfig();
// Reads a TOML file over the defaults; a clear error for anything malformed.
Result<Config> loadConfig(const std::string& path);
// Parses "ADDR:PORT".
Result<std::pair<std::string, uint16_t>> parseListen(const std::string& s);

}  // namespace lp::daemon
