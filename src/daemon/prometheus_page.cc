#include "daemon/prometheus_page.h"

#include <map>
#include <tuple>

#include "dns/dns_server.h"
#include "reconciler/reconciler.h"

namespace lp::daemon {

namespace {

using metrics::prom::Exposition;

constexpr const char* kCollectorKey = "daemon";

// RFC 1035/6895 names of the RCODEs an answer carries in its header.
std::string rcodeName(size_t rcode) {
  static const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                 "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  return rcode < std::size(kNames) ? kNames[rcode] : "RCODE" + std::to_string(rcode);
}

void writeReconciler(Exposition& out, const reconciler::Reconciler& r) {
  auto st = r.stats();
  out.family("linkplane_reconciler_queued_keys", "gauge", "VPCs, endpoints and target groups waiting for the reconciler.");
  out.sample("linkplane_reconciler_queued_keys", static_cast<double>(r.queued()));
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out.family(name, "counter", help);
    out.sample(name, static_cast<double>(v));
  };
  counter("linkplane_reconciler_passes_total", "Reconciler passes.", st.passes);
  counter("linkplane_reconciler_resyncs_total", "Full resyncs (at start, or after falling behind the store).",
          st.resyncs);
  counter("linkplane_reconciler_errors_total",
          "Host network, data plane or status work that failed and was scheduled for a retry.", st.errors);
  counter("linkplane_reconciler_status_conflicts_total",
          "Status decisions dropped because the object changed meanwhile.", st.statusConflicts);
}

void writeDns(Exposition& out, const dns::DnsServer& dns) {
  auto st = dns.stats();
  out.family("linkplane_dns_queries_total", "counter", "DNS queries received by the VPC resolvers, by transport.");
  out.sample("linkplane_dns_queries_total", {"transport"}, {"udp"}, static_cast<double>(st.udpQueries));
  out.sample("linkplane_dns_queries_total", {"transport"}, {"tcp"}, static_cast<double>(st.tcpQueries));
  out.family("linkplane_dns_answers_total", "counter", "DNS answers sent, by RCODE (forwarded answers included).");
  for (size_t i = 0; i < st.answersByRcode.size(); ++i)
    if (st.answersByRcode[i] || i == 0 || i == 2 || i == 3 || i == 5)
      out.sample("linkplane_dns_answers_total", {"rcode"}, {rcodeName(i)}, static_cast<double>(st.answersByRcode[i]));
  out.family("linkplane_dns_forwarded_total", "counter", "DNS queries sent to the upstream resolver.");
  out.sample("linkplane_dns_forwarded_total", static_cast<double>(st.forwarded));
  out.family("linkplane_dns_cache_hits_total", "counter", "DNS answers served from the answer cache.");
  out.sample("linkplane_dns_cache_hits_total", static_cast<double>(st.cacheHits));
  out.family("linkplane_dns_ignored_total", "counter", "DNS packets that got no answer (malformed, or responses).");
  out.sample("linkplane_dns_ignored_total", static_cast<double>(st.ignored));
}

}  // namespace

void writeInterfaceFigures(Exposition& out, const std::vector<InterfaceFigures>& figures) {
  const std::vector<std::string> eLabels = {"account", "endpoint", "service", "vpc", "subnet", "zone"};
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    uint64_t metrics::CumulativeCounters::*field;
  };
  const Family endpoint[] = {
      {"linkplane_endpoint_bytes_total", "counter", "Bytes through the endpoint interface, both ways.",
       &metrics::CumulativeCounters::bytes},
      {"linkplane_endpoint_new_connections_total", "counter", "Connections opened through the endpoint interface.",
       &metrics::CumulativeCounters::connections},
      {"linkplane_endpoint_resets_total", "counter", "Connections through the endpoint interface ended by a reset.",
       &metrics::CumulativeCounters::resets},
      {"linkplane_endpoint_active_connections", "gauge", "Connections open through the endpoint interface.",
       &metrics::CumulativeCounters::active},
      {"linkplane_endpoint_packets_dropped_total", "counter",
       "Packets to the endpoint interface the data plane dropped: refused by its security groups, over the "
       "bandwidth cap or the connection limit (CloudWatch's PacketsDropped).",
       &metrics::CumulativeCounters::dropped},
  };
  for (const auto& f : endpoint) {
    out.family(f.name, f.type, f.help);
    for (const auto& x : figures) {
      const auto& i = x.info;
      out.sample(f.name, eLabels, {i.consumerAccount, i.endpointId, i.serviceName, i.vpcId, i.subnetId, i.az},
                 static_cast<double>(x.counters.*(f.field)));
    }
  }
  // The provider's view: summed over the endpoints of each service, load balancer and zone.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, metrics::CumulativeCounters> byService;
  for (const auto& x : figures) {
    auto& s = byService[{x.info.providerAccount, x.info.serviceId, x.info.loadBalancerArn, x.info.az}];
    s.bytes += x.counters.bytes;
    s.connections += x.counters.connections;
    s.resets += x.counters.resets;
    s.active += x.counters.active;
  }
  const std::vector<std::string> sLabels = {"account", "service_id", "load_balancer", "zone"};
  const Family service[] = {
      {"linkplane_service_bytes_total", "counter", "Bytes through the service's endpoints, both ways.",
       &metrics::CumulativeCounters::bytes},
      {"linkplane_service_new_connections_total", "counter", "Connections opened to the service through endpoints.",
       &metrics::CumulativeCounters::connections},
      {"linkplane_service_resets_total", "counter", "Connections to the service ended by a reset.",
       &metrics::CumulativeCounters::resets},
      {"linkplane_service_active_connections", "gauge", "Connections open to the service through endpoints.",
       &metrics::CumulativeCounters::active},
  };
  for (const auto& f : service) {
    out.family(f.name, f.type, f.help);
    for (const auto& [k, c] : byService)
      out.sample(f.name, sLabels, {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k)},
                 static_cast<double>(c.*(f.field)));
  }
}

void addDaemonCollectors(metrics::prom::Registry& registry, PrometheusSources s) {
  registry.addCollector(kCollectorKey, [s](Exposition& out) {
    out.family("linkplane_build_info", "gauge", "The running linkplane's version.");
    out.sample("linkplane_build_info", {"version"}, {s.version}, 1);
    out.family("linkplane_uptime_seconds", "gauge", "Seconds since the daemon started.");
    out.sample("linkplane_uptime_seconds",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count());
    if (s.reconciler) writeReconciler(out, *s.reconciler);
    if (s.dns) writeDns(out, *s.dns);
    if (s.sampler) writeInterfaceFigures(out, *s.sampler->latest());
  });
}

void removeDaemonCollectors(metrics::prom::Registry& registry) { registry.removeCollector(kCollectorKey); }

api::HttpResponse prometheusResponse(const metrics::prom::Registry& registry, const api::HttpRequest& request) {
  api::HttpResponse resp;
  resp.contentType = "text/plain; charset=utf-8";
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path != "/metrics") {
    resp.status = 404;
    resp.body = "linkplane serves Prometheus metrics at /metrics\n";
    return resp;
  }
  if (request.method != "GET") {
    resp.status = 405;
    resp.headers.emplace_back("Allow", "GET");
    resp.body = "only GET\n";
    return resp;
  }
  resp.contentType = "text/plain; version=0.0.4; charset=utf-8";
  resp.body = registry.render();
  return resp;
}

}  // namespace lp::daemon
