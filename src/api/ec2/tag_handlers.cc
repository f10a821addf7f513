// EC2 tags: CreateTags, DeleteTags, DescribeTags over every taggable resource.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/tag_service.h"

namespace lp::api {

void registerEc2TagHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateTags", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(
        control::TagService(ctx).createTags(h.call, h.params.list("ResourceId"), ec2::readTags(h.params, "Tag")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteTags", [&ctx](HandlerContext& h) -> Status {
    std::vector<control::TagDeletion> deletions;
    // An absent Value deletes whatever value; "Tag.N.Value=" only an empty one.
    for (auto& t : h.params.structList("Tag")) {
      control::TagDeletion d{t.get("Key"), std::nullopt};
      if (t.has("Value")) d.value = t.get("Value");
      deletions.push_back(std::move(d));
    }
    LP_RETURN_IF_ERROR(control::TagService(ctx).deleteTags(h.call, h.params.list("ResourceId"), deletions));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DescribeTags", [&ctx](HandlerContext& h) -> Status {
    control::DescribeTagsInput in;
    in.filters = ec2::readFilters(h.params);
    LP_ASSIGN_OR_RETURN(in.page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, control::TagService(ctx).describeTags(h.call, in));
    if (page.items.empty()) {
      h.out.empty("tagSet");
    } else {
      auto s = h.out.scope("tagSet");
      for (const auto& t : page.items) {
        auto i = h.out.scope("item");
        h.out.leaf("resourceId", t.resourceId);
        h.out.leaf("resourceType", t.resourceType);
        h.out.leaf("key", t.key);
        h.out.leaf("value", t.value);
      }
    }
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
