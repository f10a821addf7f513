// DesiredState: the reconciler's decoded copy of the store objects the host depends
// on (VPCs, subnets, interfaces, security groups, endpoints, services, load
// balancers, listeners, target groups, route tables and the instances their routes
// name), each with the revision it was read at, and
// the indexes that turn one changed object into the few keys it affects. Objects
// are parsed when they change and never again: planning a key reads only decoded
// values (host_plan.h, dataplane_plan.h, dns_plan.h).
//
// Keys: a VPC (its namespace, bridges, addresses, workloads, nftables tables of
// security groups and network ACLs, policy routing of its route tables, DNS resolver), an endpoint (its listeners,
// names and status) and a target group (its health checks). apply() of a changed object reports the keys of both its
// old and its new version, so a VPC an interface left is converged as well as the one it joined.
//
// Value type with no I/O; the reconciler thread owns its instance.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "model/elb.h"
#include "model/endpoint.h"
#include "model/instance.h"
#include "model/network.h"
#include "model/resources.h"
#include "store/store.h"

namespace lp::reconciler {

template <typename T>
struct Versioned {
  T value;
  uint64_t revision = 0;
};

// The keys a change touches.
struct DirtyKeys {
  std::set<std::string> vpcs;
  std::set<std::string> endpoints;
  std::set<std::string> targetGroups;
  bool empty() const { return vpcs.empty() && endpoints.empty() && targetGroups.empty(); }
  void merge(const DirtyKeys& o) {
    vpcs.insert(o.vpcs.begin(), o.vpcs.end());
    endpoints.insert(o.endpoints.begin(), o.endpoints.end());
    targetGroups.insert(o.targetGroups.begin(), o.targetGroups.end());
  }
};

class DesiredState {
 public:
  // Whether objects of this kind shape the host (others are ignored by apply()).
  static bool tracks(std::string_view kind);

  // Every tracked object of the view (a full resync); returns every key.
  DirtyKeys load(const store::ReadView& view);
  // One object as it is now (nullopt = erased). An object not newer than the copy
  // held (the reconciler's own write, seen again as a change) affects nothing.
  DirtyKeys apply(std::string_view kind, std::string_view id, const std::optional<store::Object>& now);
  // Takes an endpoint the reconciler itself wrote at `revision` (status), without
  // parsing it back from the store.
  DirtyKeys putEndpoint(const model::VpcEndpoint& e, uint64_t revision);
  // Replaces an endpoint's value but not its revision: a status about to be
  // written, planned ahead of the write (the write's own revision follows).
  void overrideEndpoint(const model::VpcEndpoint& e);
  void eraseEndpoint(const std::string& id);

  template <typename T>
  using Table = std::map<std::string, Versioned<T>, std::less<>>;

  const Table<model::Vpc>& vpcs() const { return vpcs_; }
  const Table<model::Subnet>& subnets() const { return subnets_; }
  const Table<model::NetworkInterface>& interfaces() const { return interfaces_; }
  const Table<model::SecurityGroup>& securityGroups() const { return groups_; }
  const Table<model::NetworkAcl>& networkAcls() const { return acls_; }
  const Table<model::VpcEndpoint>& endpoints() const { return endpoints_; }
  const Table<model::ServiceConfiguration>& services() const { return services_; }
  const Table<model::LoadBalancer>& loadBalancers() const { return lbs_; }
  const Table<model::Listener>& listeners() const { return listeners_; }
  const Table<model::TargetGroup>& targetGroups() const { return tgs_; }
  const Table<model::RouteTable>& routeTables() const { return routeTables_; }
  // Instances are held for the state of the routes to them (route_plan.h); one
  // that no route names changes nothing on the host.
  const Table<model::Instance>& instances() const { return instances_; }

  template <typename T>
  static const T* find(const Table<T>& t, std::string_view id) {
    auto it = t.find(id);
    return it == t.end() ? nullptr : &it->second.value;
  }

  // Ids of the objects in one VPC (subnets, interfaces, groups, endpoints).
  const std::set<std::string>& subnetsIn(const std::string& vpcId) const { return get(subnetsByVpc_, vpcId); }
  const std::set<std::string>& interfacesIn(const std::string& vpcId) const { return get(ifacesByVpc_, vpcId); }
  const std::set<std::string>& groupsIn(const std::string& vpcId) const { return get(groupsByVpc_, vpcId); }
  const std::set<std::string>& aclsIn(const std::string& vpcId) const { return get(aclsByVpc_, vpcId); }
  const std::set<std::string>& routeTablesIn(const std::string& vpcId) const { return get(routeTablesByVpc_, vpcId); }
  // Route tables with a route to an instance.
  const std::set<std::string>& routesTo(const std::string& instanceId) const {
    return get(routeTablesByInstance_, instanceId);
  }
  const std::set<std::string>& endpointsIn(const std::string& vpcId) const { return get(endpointsByVpc_, vpcId); }
  const std::set<std::string>& endpointsOf(const std::string& serviceId) const {
    return get(endpointsByService_, serviceId);
  }
  // Listener ARNs of a load balancer, and of a target group.
  const std::set<std::string>& listenersOf(const std::string& lbArn) const { return get(listenersByLb_, lbArn); }
  const std::set<std::string>& listenersTo(const std::string& tgArn) const { return get(listenersByTg_, tgArn); }
  // Services fronted by a load balancer.
  const std::set<std::string>& servicesOn(const std::string& lbArn) const { return get(servicesByLb_, lbArn); }

 private:
  using Index = std::map<std::string, std::set<std::string>, std::less<>>;
  static const std::set<std::string>& get(const Index& ix, const std::string& k) {
    static const std::set<std::string> kNone;
    auto it = ix.find(k);
    return it == ix.end() ? kNone : it->second;
  }
  static void link(Index& ix, const std::string& k, const std::string& id) { ix[k].insert(id); }
  static void unlink(Index& ix, const std::string& k, const std::string& id);

  // What depends on one object, for its old and new versions alike.
  void affectedBy(const model::Vpc& v, DirtyKeys& d) const;
  void affectedBy(const model::Subnet& s, DirtyKeys& d) const;
  void affectedBy(const model::NetworkInterface& n, DirtyKeys& d) const;
  void affectedBy(const model::SecurityGroup& g, DirtyKeys& d) const;
  void affectedBy(const model::NetworkAcl& a, DirtyKeys& d) const;
  void affectedBy(const model::VpcEndpoint& e, DirtyKeys& d) const;
  void affectedBy(const model::ServiceConfiguration& s, DirtyKeys& d) const;
  void affectedBy(const model::LoadBalancer& lb, DirtyKeys& d) const;
  void affectedBy(const model::Listener& l, DirtyKeys& d) const;
  void affectedBy(const model::TargetGroup& tg, DirtyKeys& d) const;
  void affectedBy(const model::RouteTable& rt, DirtyKeys& d) const;
  void affectedBy(const model::Instance& i, DirtyKeys& d) const;
  void endpointsBehindLb(const std::string& lbArn, DirtyKeys& d) const;

  void index(const model::Subnet& s, bool add);
  void index(const model::NetworkInterface& n, bool add);
  void index(const model::SecurityGroup& g, bool add);
  void index(const model::NetworkAcl& a, bool add);
  void index(const model::VpcEndpoint& e, bool add);
  void index(const model::ServiceConfiguration& s, bool add);
  void index(const model::Listener& l, bool add);
  void index(const model::RouteTable& rt, bool add);
  void index(const model::Instance&, bool) {}
  void index(const model::Vpc&, bool) {}
  void index(const model::LoadBalancer&, bool) {}
  void index(const model::TargetGroup&, bool) {}

  // Puts next (nullopt: erases) in place of what the table held, re-indexing, and
  // returns the keys of both versions.
  template <typename T>
  DirtyKeys set(Table<T>& table, std::string_view id, std::optional<T> next, uint64_t revision);
  template <typename T>
  DirtyKeys replace(Table<T>& table, std::string_view id, const std::optional<store::Object>& now);

  Table<model::Vpc> vpcs_;
  Table<model::Subnet> subnets_;
  Table<model::NetworkInterface> interfaces_;
  Table<model::SecurityGroup> groups_;
  Table<model::NetworkAcl> acls_;
  Table<model::VpcEndpoint> endpoints_;
  Table<model::ServiceConfiguration> services_;
  Table<model::LoadBalancer> lbs_;
  Table<model::Listener> listeners_;
  Table<model::TargetGroup> tgs_;
  Table<model::RouteTable> routeTables_;
  Table<model::Instance> instances_;
  Index subnetsByVpc_, ifacesByVpc_, groupsByVpc_, aclsByVpc_, endpointsByVpc_, endpointsByService_;
  Index listenersByLb_, listenersByTg_, servicesByLb_, routeTablesByVpc_, routeTablesByInstance_;
};

}  // namespace lp::reconciler
