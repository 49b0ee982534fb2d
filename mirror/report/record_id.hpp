#pragma once
// Record ids (reports.md `id`): ULID-like, so ids sort by creation time and name one record
// across every log of a deployment.

#include <chrono>
#include <string>

namespace parallax::mirror::report {

/// A new ULID-like id: 48-bit milliseconds since the epoch then 80 random bits, in 26
/// Crockford base32 characters. Ids made by one thread sort in creation order, also within
/// one millisecond (the random part is incremented then).
[[nodiscard]] std::string make_record_id(std::chrono::system_clock::time_point time);

} // namespace parallax::mirror::report
