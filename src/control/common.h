// Helpers every control-plane service uses: ownership-checked lookups, id
// validation, tags from TagSpecifications, timestamps. Header-only, pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/context.h"
#include "control/errors.h"
#include "control/typed_store.h"
#include "model/resources.h"

namespace lp::control {

struct TagSpecification {
  std::string resourceType;
  model::Tags tags;
};

// Validates user tags (count, key rules).
Status validateTags(const model::Tags& tags);
// The tags that TagSpecifications give a new resource of resourceType; an error
// for a specification naming another type.
Result<model::Tags> tagsFromSpecs(const std::vector<TagSpecification>& specs, std::string_view resourceType);

// Looks up a resource the caller owns. Another account's resource answers exactly
// like a missing one, so ids never leak across accounts.
template <typename R>
Result<R> findOwned(const View& v, const CallContext& call, const std::string& id, std::string_view malformedCode,
                    std::string_view notFoundCode, std::string_view noun) {
  if (!model::isWellFormedId(decltype(R::id)::prefix(), id))
    return err::make(malformedCode, "Invalid id: \"{}\"", id);
  auto r = v.get<R>(id);
  if (!r || r->ownerId != call.account) return err::make(notFoundCode, "The {} '{}' does not exist", noun, id);
  return std::move(*r);
}

inline std::string nowIso(const ControlContext& ctx) { return iso8601Millis(ctx.clock.now()); }

}  // namespace lp::control
