// Refusing a throttled account's request before its signature is verified.
//
// A flooding account's refused calls cost the daemon what any call costs up to the
// throttle: reading it, hashing the body, four HMACs and a SHA-256 for SigV4, parsing
// the form. Most of that can be skipped: the Authorization header names the access
// key, the key names the account, and if that account is already over its limit the
// call would be refused after verification anyway.
//
// Security: the request is not authenticated yet, so whoever sends it may not be the
// key's owner (a forger who knows a victim's access key id). This check therefore
// only *reads* the account's state: it refuses when the account's bucket for the call
// is empty or its calls in flight are at the cap, and charges nothing, holds no slot.
// Charging a token and taking a slot stay after verification (ApiService::throttled),
// so a forger can never empty another account's bucket or fill its slots; while the
// account is not over its limit, a forged request goes on to fail its signature check
// as before. What a forger can learn: whether the named account is over its limit now
// (one bit, and only with a valid key id). docs/throttling-and-audit.md.
#pragma once

#include <string_view>

#include "api/in_flight.h"
#include "api/throttle.h"

namespace lp::api {

// The Action a Query/EC2 form body names, read in place (no decoding, no copy): ""
// when there is none or it is percent- or plus-encoded (action names are letters).
std::string_view formActionInPlace(std::string_view body);

// Whether a not yet verified request naming accountId should be refused as throttled:
// its calls in flight are at the cap, or the bucket action draws from is empty (both
// buckets when the action is not known: ""). Null throttle or inFlight: no such limit.
// Changes nothing.
bool overLimitBeforeVerifying(const AccountThrottle* throttle, const InFlightLimiter* inFlight,
                              std::string_view accountId, std::string_view action);

}  // namespace lp::api
