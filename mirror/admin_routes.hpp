#pragma once
// What the mirroring engine serves on the admin listener: the summary at `/report` (JSON) and
// `/report.html`, `POST /report/reset`, the runtime control at `/mirror` and `/mirror/ROUTE`
// (GET, POST, DELETE), and the parallax_mirror_* section of `/metrics`.

namespace parallax::proxy::server {
class server;
}

namespace parallax::mirror {

class engine;

/// Installs the report handlers and the metrics section of `e` on `srv`; call before
/// srv.start(). The handlers run on the admin thread and hold `e`, which must outlive `srv`.
void add_admin_routes(proxy::server::server& srv, engine& e);

} // namespace parallax::mirror
