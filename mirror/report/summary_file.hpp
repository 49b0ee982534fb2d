#pragma once
// The summary file (`reports.summary.path`): the current summary, replaced as a whole so a
// reader (another pod's `parallax report`, a sidecar) never sees half a document.

#include <boost/json/object.hpp>

#include <string>

namespace parallax::mirror::report {

/// Writes `summary` as pretty JSON to `path` + ".tmp", then renames it over `path`; a failure
/// is logged (the previous file stays), never thrown.
/// Returns false when the file could not be written or replaced (logged).
bool write_summary_file(const std::string& path, const boost::json::object& summary);

} // namespace parallax::mirror::report
