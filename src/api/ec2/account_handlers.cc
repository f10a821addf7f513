// EC2 account and region information: DescribeRegions, DescribeAccountAttributes,
// DescribePrefixLists, DescribeManagedPrefixLists.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/account_service.h"

namespace lp::api {

void registerEc2AccountHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "DescribeRegions", [&ctx](HandlerContext& h) -> Status {
    control::DescribeRegionsInput in;
    in.regionNames = h.params.list("RegionName");
    in.filters = ec2::readFilters(h.params);
    LP_ASSIGN_OR_RETURN(auto all, h.params.getBool("AllRegions"));
    in.allRegions = all.value_or(false);
    LP_ASSIGN_OR_RETURN(auto regions, control::AccountService(ctx).describeRegions(h.call, in));
    ec2::writeItems(h.out, "regionInfo", regions, [](XmlWriter& x, const control::RegionInfo& r) {
      x.leaf("regionName", r.regionName);
      x.leaf("regionEndpoint", r.endpoint);
      x.leaf("optInStatus", r.optInStatus);
    });
    return Status::Ok();
  });

  r.add("ec2", "DescribeAccountAttributes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attrs,
                        control::AccountService(ctx).describeAccountAttributes(h.call, h.params.list("AttributeName")));
    ec2::writeItems(h.out, "accountAttributeSet", attrs, [](XmlWriter& x, const control::AccountAttribute& a) {
      x.leaf("attributeName", a.name);
      auto s = x.scope("attributeValueSet");
      for (const auto& v : a.values) {
        auto i = x.scope("item");
        x.leaf("attributeValue", v);
      }
    });
    return Status::Ok();
  });

  r.add("ec2", "DescribePrefixLists", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "PrefixListId"));
    LP_ASSIGN_OR_RETURN(auto page, control::AccountService(ctx).describePrefixLists(h.call, in, false));
    ec2::writeItems(h.out, "prefixListSet", page.items, [](XmlWriter& x, const control::PrefixList& p) {
      x.stringItems("cidrSet", p.cidrs);
      x.leaf("prefixListId", p.id);
      x.leaf("prefixListName", p.name);
    });
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeManagedPrefixLists", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "PrefixListId"));
    LP_ASSIGN_OR_RETURN(auto page, control::AccountService(ctx).describePrefixLists(h.call, in, true));
    ec2::writeItems(h.out, "prefixListSet", page.items, [](XmlWriter& x, const control::PrefixList& p) {
      x.leaf("prefixListId", p.id);
      x.leaf("addressFamily", "IPv4");
      x.leaf("state", "create-complete");
      x.leaf("prefixListName", p.name);
      x.leaf("ownerId", p.ownerId);
    });
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
