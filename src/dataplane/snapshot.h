// Snapshot: everything the data plane needs to forward, as plain values built by
// the reconciler from the store (reconciler/dataplane_plan.h). Immutable once
// handed over; the data plane never reads the store.
#pragma once

#include <string>
#include <vector>

namespace lp::dataplane {

// One place a listener may send a connection: a registered target of the
// service's load balancer (or an AWS service backend in the host namespace).
struct TargetSpec {
  std::string healthKey;  // key of its health check; "" = not checked (always usable)
  std::string ns;         // provider VPC namespace; "" = the daemon's own (host) namespace
  std::string sourceIp;   // load balancer node address to connect from; "" = any
  std::string ip;
  int port = 0;
  std::string zoneId;
  bool proxyProtocolV2 = false;
  // Reset connections to this target when it turns unhealthy (the NLB default,
  // target_health_state.unhealthy.connection_termination.enabled).
  bool terminateWhenUnhealthy = true;
  bool operator==(const TargetSpec&) const = default;
};

// One listening socket: an endpoint interface address and a listener port.
struct ListenerSpec {
  std::string endpointId;   // vpce-...
  std::string interfaceId;  // the endpoint interface (eni-...) the address belongs to
  std::string zoneId;       // zone id of that interface
  std::string ns;           // consumer VPC namespace
  std::string ip;
  int port = 0;
  bool forwarding = false;  // endpoint available: accept and forward; else reset
  std::vector<TargetSpec> targets;
  // A network ACL of the consumer's or the provider's VPC filters packets (one
  // associated with a subnet lets less than everything through). ACLs are
  // stateless: every packet of a connection must meet them, so both fast paths
  // refuse it (fastPathRefusal): the BPF path hands later packets past the
  // namespaces' stacks, the conntrack path's answers meet the ACLs translated.
  bool statelessAcls = false;
  bool operator==(const ListenerSpec&) const = default;
};

// A TCP health check of one registered target.
struct HealthCheckSpec {
  std::string key;       // model::targetHealthKey(tg, ip, port)
  std::string ns;        // provider VPC namespace
  std::string sourceIp;  // a load balancer node address
  std::string ip;
  int port = 0;  // health check port
  int intervalSeconds = 30;
  int timeoutSeconds = 10;
  int healthyThreshold = 5;
  int unhealthyThreshold = 2;
  bool operator==(const HealthCheckSpec&) const = default;
};

// "ns|ip|port": what names a listener, in the data plane and to the reconciler.
inline std::string listenerKey(const ListenerSpec& l) { return l.ns + "|" + l.ip + "|" + std::to_string(l.port); }

struct Snapshot {
  std::vector<ListenerSpec> listeners;
  std::vector<HealthCheckSpec> healthChecks;
};

}  // namespace lp::dataplane
