// Self-tests of the loopback test support: backend, fault server, raw client, throwaway PKI,
// child process.
#include <gtest/gtest.h>

#include <csignal>
#include <mutex>
#include <system_error>

#include "test/support/blackhole_server.hpp"
#include "test/support/fault_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/process.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;

raw_client connected_client(std::uint16_t port, const tls_client_options& tls = {}) {
  raw_client client;
  EXPECT_TRUE(client.connect(port, tls)) << client.last_error();
  return client;
}

TEST(HttpBackendTest, EchoesRequestAsJson) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  const auto response =
      client.round_trip(raw_client::request("POST", "/echo?x=1", {{"X-Test", "a\"b"}}, "hello"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_NE(response.body.find("\"method\":\"POST\""), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("\"target\":\"/echo?x=1\""), std::string::npos);
  EXPECT_NE(response.body.find("\"x-test\":\"a\\\"b\""), std::string::npos);
  EXPECT_NE(response.body.find("\"body\":\"hello\""), std::string::npos);
  EXPECT_TRUE(response.raw_head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(response.raw_head.ends_with("\r\n\r\n"));
  EXPECT_FALSE(response.closed_after);
}

TEST(HttpBackendTest, KeepsConnectionAliveAcrossRequests) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  for (int i = 0; i < 3; ++i) {
    const auto response = client.round_trip(raw_client::request("GET", "/" + std::to_string(i)));
    ASSERT_TRUE(response.ok()) << response.error;
  }
  ASSERT_TRUE(backend.wait_for_requests(3, 5s));
  const auto requests = backend.requests();
  EXPECT_EQ(backend.connections_accepted(), 1u);
  EXPECT_EQ(requests[2].index_on_connection, 2u);
  EXPECT_EQ(requests[2].connection_id, requests[0].connection_id);
  EXPECT_EQ(requests[1].target, "/1");
  EXPECT_TRUE(requests[1].raw_head.starts_with("GET /1 HTTP/1.1\r\nHost: localhost\r\n"));
  client.close();
  EXPECT_TRUE(backend.wait_for_open_connections(0, 5s));
}

TEST(HttpBackendTest, AnswersPipelinedRequestsInOrder) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  ASSERT_TRUE(client.send(raw_client::request("GET", "/a") + raw_client::request("GET", "/b")));
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first.body.find("/a"), std::string::npos);
  EXPECT_NE(second.body.find("/b"), std::string::npos);
}

TEST(HttpBackendTest, DecodesChunkedRequestWithTrailers) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  const auto response = client.round_trip(raw_client::chunked_request(
      "PUT", "/up", {{"Trailer", "X-Sum"}}, {"hel", "", "lo ", "world"}, {{"X-Sum", "42"}}));
  ASSERT_TRUE(response.ok()) << response.error;
  const auto request = backend.last_request();
  EXPECT_TRUE(request.chunked);
  EXPECT_EQ(request.body, "hello world");
  ASSERT_EQ(request.trailers.size(), 1u);
  EXPECT_EQ(request.trailers[0].second, "42");
  EXPECT_EQ(request.header_count("transfer-encoding"), 1u);
}

TEST(HttpBackendTest, SendsChunkedResponseWithTrailers) {
  http_backend backend([](const received_request&, backend_connection& connection) {
    connection.respond_chunked(200, {"one ", "two"}, {{"Trailer", "X-Done"}}, {{"X-Done", "yes"}});
  });
  raw_client client = connected_client(backend.port());
  const auto response = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_TRUE(response.chunked);
  EXPECT_EQ(response.body, "one two");
  ASSERT_EQ(response.trailers.size(), 1u);
  EXPECT_EQ(response.trailers[0].first, "X-Done");
}

TEST(HttpBackendTest, OmitsBodyForHeadAndBodilessStatuses) {
  http_backend backend([](const received_request& request, backend_connection& connection) {
    if (request.target == "/204") {
      connection.respond(204, "");
    } else if (request.target == "/304") {
      connection.respond(304, "", {{"ETag", "\"x\""}});
    } else {
      connection.respond(200, "twelve bytes");
    }
  });
  raw_client client = connected_client(backend.port());
  const auto head = client.round_trip(raw_client::request("HEAD", "/"), true);
  ASSERT_TRUE(head.ok()) << head.error;
  EXPECT_EQ(head.header("Content-Length"), "12");
  EXPECT_TRUE(head.body.empty());
  for (const char* target : {"/204", "/304"}) {
    const auto response = client.round_trip(raw_client::request("GET", target));
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_TRUE(response.body.empty());
  }
  const auto after = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(after.ok()) << after.error;
  EXPECT_EQ(after.body, "twelve bytes");
}

TEST(HttpBackendTest, SendsInterimContinueBeforeBody) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  ASSERT_TRUE(client.send("POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Length: 4\r\n\r\n"));
  const auto interim = client.read_response();
  ASSERT_TRUE(interim.ok()) << interim.error;
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send("data"));
  const auto final_response = client.read_response();
  ASSERT_TRUE(final_response.ok()) << final_response.error;
  EXPECT_EQ(final_response.status, 200);
  EXPECT_EQ(backend.last_request().body, "data");
}

TEST(HttpBackendTest, StreamsLargeBodiesInConstantMemory) {
  constexpr std::uint64_t size = 48ull << 20;
  http_backend backend([](const received_request& request, backend_connection& connection) {
    connection.stream_body(200, size, request.target == "/chunked");
  });
  raw_client client = connected_client(backend.port());
  for (const char* target : {"/length", "/chunked"}) {
    ASSERT_TRUE(client.send(raw_client::request("GET", target)));
    const auto response = client.read_response_discard_body();
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.body_size, size);
    EXPECT_TRUE(response.body_matches_pattern);
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(response.chunked, std::string_view(target) == "/chunked");
  }
}

TEST(HttpBackendTest, CountsUploadBeyondStoredLimit) {
  backend_options options;
  options.max_stored_body = 1000;
  http_backend backend(echo_handler(), options);
  raw_client client = connected_client(backend.port());
  const std::string body = pattern_bytes(0, 5u << 20);
  const auto response = client.round_trip(raw_client::request("POST", "/big", {}, body));
  ASSERT_TRUE(response.ok()) << response.error;
  const auto request = backend.last_request();
  EXPECT_EQ(request.body_size, body.size());
  EXPECT_TRUE(request.body_truncated);
  EXPECT_TRUE(request.body_matches_pattern);
  EXPECT_EQ(request.body.size(), 1000u);
}

TEST(HttpBackendTest, HoldsResponseUntilGateReleased) {
  gate open;
  http_backend backend([open](const received_request&, backend_connection& connection) {
    if (open.wait()) connection.respond(200, "late");
  });
  raw_client client(300ms);
  ASSERT_TRUE(client.connect(backend.port()));
  ASSERT_TRUE(client.send(raw_client::request("GET", "/slow")));
  ASSERT_TRUE(backend.wait_for_requests(1, 5s));
  ASSERT_TRUE(open.wait_for_waiters(1, 5s));
  const auto early = client.read_response();
  EXPECT_EQ(early.io, io_status::timeout);
  open.release();
  client.set_timeout(5s);
  const auto response = client.read_response();
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "late");
}

TEST(HttpBackendTest, StopsPromptlyWithHandlerBlockedOnGate) {
  gate never;
  raw_client client;
  const auto started = std::chrono::steady_clock::now();
  {
    http_backend backend([never](const received_request&, backend_connection&) { never.wait(); });
    ASSERT_TRUE(client.connect(backend.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
    ASSERT_TRUE(backend.wait_for_requests(1, 5s));
    ASSERT_TRUE(never.wait_for_waiters(1, 5s));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST(HttpBackendTest, CloseDelimitsBodyAndResetSendsRst) {
  http_backend backend([](const received_request& request, backend_connection& connection) {
    if (request.target == "/close") {
      connection.write_raw("HTTP/1.1 200 OK\r\n\r\nuntil close");
      connection.close();
    } else {
      connection.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      connection.reset();
    }
  });
  raw_client client = connected_client(backend.port());
  const auto delimited = client.round_trip(raw_client::request("GET", "/close"));
  ASSERT_TRUE(delimited.ok()) << delimited.error;
  EXPECT_EQ(delimited.body, "until close");
  EXPECT_TRUE(delimited.closed_after);

  raw_client second = connected_client(backend.port());
  const auto broken = second.round_trip(raw_client::request("GET", "/reset"));
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(broken.io, io_status::reset) << broken.error;
}

TEST(HttpBackendTest, ClosesWhenClientAsks) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  const auto response =
      client.round_trip(raw_client::request("GET", "/", {{"Connection", "close"}}));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_TRUE(client.wait_closed(5s));

  raw_client old = connected_client(backend.port());
  ASSERT_TRUE(old.send("GET / HTTP/1.0\r\n\r\n"));
  const auto http10 = old.read_response();
  ASSERT_TRUE(http10.ok()) << http10.error;
  EXPECT_EQ(backend.last_request().version_minor, 0);
  EXPECT_TRUE(old.wait_closed(5s));
}

TEST(HttpBackendTest, ClosesAfterRespondingWithConnectionClose) {
  http_backend backend(fixed_response_handler(200, "bye", {{"Connection", "close"}}));
  raw_client client = connected_client(backend.port());
  const auto response = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_FALSE(response.keep_alive);
  EXPECT_TRUE(client.wait_closed(5s));
  EXPECT_TRUE(backend.wait_for_open_connections(0, 5s));
}

TEST(HttpBackendTest, EchoesRawBytesAfterUpgrade) {
  http_backend backend([](const received_request& request, backend_connection& connection) {
    ASSERT_TRUE(request.upgrade);
    connection.respond(101, "", {{"Connection", "Upgrade"}, {"Upgrade", "echo"}});
    while (auto bytes = connection.read_some(1024, 5s))
      connection.write_raw(*bytes);
  });
  raw_client client = connected_client(backend.port());
  ASSERT_TRUE(client.send(
      raw_client::request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "echo"}}) +
      "early"));
  const auto switched = client.read_response();
  ASSERT_TRUE(switched.ok()) << switched.error;
  EXPECT_EQ(switched.status, 101);
  EXPECT_EQ(client.read_exact(5).data, "early");
  ASSERT_TRUE(client.send("ping"));
  EXPECT_EQ(client.read_exact(4).data, "ping");
  client.shutdown_write();
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST(HttpBackendTest, AnswersMalformedRequestWith400) {
  http_backend backend;
  raw_client client = connected_client(backend.port());
  const auto response = client.round_trip("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(backend.parse_errors(), 1u);
  EXPECT_EQ(backend.requests_seen(), 0u);
}

TEST(HttpBackendTest, RefusesAfterStop) {
  http_backend backend;
  const auto port = backend.port();
  backend.stop();
  raw_client client;
  EXPECT_FALSE(client.connect(port));
}

class TlsBackendTest : public ::testing::Test {
protected:
  temp_dir dir_;
  test_pki pki_ = make_test_pki(dir_.file("pki"), {"backend.test"});
  test_pki other_pki_ = make_test_pki(dir_.file("other"));
};

TEST_F(TlsBackendTest, ServesVerifiedTlsWithSni) {
  backend_options options;
  options.tls = pki_;
  http_backend backend(echo_handler(), options);
  EXPECT_TRUE(backend.url().starts_with("https://"));
  for (const char* name : {"localhost", "backend.test", "127.0.0.1"}) {
    auto tls = tls_client_options::trusting(pki_, name);
    tls.alpn = {"h2", "http/1.1"};
    raw_client client = connected_client(backend.port(), tls);
    EXPECT_EQ(client.negotiated_alpn(), "http/1.1");
    const auto response = client.round_trip(raw_client::request("GET", "/tls"));
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.status, 200);
    const auto request = backend.last_request();
    EXPECT_EQ(request.tls_server_name, std::string_view(name) == "127.0.0.1" ? "" : name);
    EXPECT_EQ(request.tls_alpn, "http/1.1");
  }
}

TEST_F(TlsBackendTest, RejectsUnknownCaAndWrongName) {
  backend_options options;
  options.tls = pki_;
  http_backend backend(echo_handler(), options);
  raw_client client;
  EXPECT_FALSE(client.connect(backend.port(), tls_client_options::trusting(other_pki_)));
  EXPECT_NE(client.last_error().find("certificate verify failed"), std::string::npos)
      << client.last_error();
  EXPECT_FALSE(client.connect(backend.port(), tls_client_options::trusting(pki_, "wrong.test")));
  EXPECT_TRUE(backend.wait_for(
      [](const backend_stats& stats) { return stats.tls_handshake_failures == 2; }, 5s));
  EXPECT_EQ(backend.stats().connections_accepted, 2u);
}

TEST_F(TlsBackendTest, RequiresClientCertificate) {
  backend_options options;
  options.tls = pki_;
  options.require_client_cert = true;
  http_backend backend(echo_handler(), options);

  auto tls = tls_client_options::trusting(pki_);
  tls.cert_file = pki_.client_cert_path;
  tls.key_file = pki_.client_key_path;
  raw_client client = connected_client(backend.port(), tls);
  const auto response = client.round_trip(raw_client::request("GET", "/mtls"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_NE(backend.last_request().tls_client_subject.find("parallax test client"),
            std::string::npos);

  // With TLS 1.3 the client finishes its handshake before the server checks its certificate,
  // so the refusal may only show on the first read.
  raw_client anonymous;
  if (anonymous.connect(backend.port(), tls_client_options::trusting(pki_))) {
    EXPECT_FALSE(anonymous.round_trip(raw_client::request("GET", "/")).ok());
  }
  EXPECT_EQ(backend.requests_seen(), 1u);
}

TEST(LoopbackPortsTest, RefusingPortRefuses) {
  raw_client client;
  EXPECT_FALSE(client.connect(refusing_port()));
  EXPECT_NE(client.last_error().find("refused"), std::string::npos) << client.last_error();
}

TEST(LoopbackPortsTest, BlackholeAcceptsButNeverAnswers) {
  blackhole_server hole;
  raw_client client(200ms);
  ASSERT_TRUE(client.connect(hole.port()));
  ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
  EXPECT_TRUE(hole.wait_for_connections(1, 5s));
  EXPECT_EQ(client.read_response().io, io_status::timeout);
}

TEST(LoopbackPortsTest, NeverAcceptingBlackholeTimesOutConnects) {
  blackhole_server hole(blackhole_mode::never_accept);
  raw_client client(300ms);
  EXPECT_FALSE(client.connect(hole.port()));
  EXPECT_NE(client.last_error().find("timed out"), std::string::npos) << client.last_error();
}

fault_plan plan_of(fault kind) {
  fault_plan plan;
  plan.kind = kind;
  return plan;
}

TEST(FaultServerTest, RespondsOnKeepAliveAndCountsPerConnection) {
  fault_server server(plan_of(fault::respond));
  raw_client client = connected_client(server.port());
  for (int i = 0; i < 2; ++i) {
    const auto response = client.round_trip(raw_client::request("POST", "/", {}, "12345"));
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, pattern_bytes(0, 64));
  }
  client.close();
  ASSERT_TRUE(server.wait_for_open_at_most(0, 5s));
  const auto connections = server.connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].requests, 2u);
  EXPECT_TRUE(connections[0].peer_closed);
  EXPECT_FALSE(connections[0].open);
  EXPECT_GT(server.stats().bytes_read, 10u);
}

TEST(FaultServerTest, HoldsUnreadConnectionUntilPeerCloses) {
  fault_server server(plan_of(fault::never_read));
  raw_client client = connected_client(server.port());
  ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
  ASSERT_TRUE(server.wait_for_faults(1, 5s));
  EXPECT_FALSE(server.wait_for_open_at_most(0, 100ms)); // held
  client.close();
  ASSERT_TRUE(server.wait_for_open_at_most(0, 5s));
  EXPECT_EQ(server.stats().bytes_read, 0u);
  EXPECT_EQ(server.requests_seen(), 0u);
}

TEST(FaultServerTest, ReleaseDrainsHeldConnection) {
  fault_server server(plan_of(fault::never_answer));
  raw_client client = connected_client(server.port());
  ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  ASSERT_TRUE(server.wait_for_requests(1, 5s));
  server.release();
  ASSERT_TRUE(client.send(std::string(100000, 'b')));
  ASSERT_TRUE(server.wait_for([](const fault_stats& s) { return s.bytes_read > 100000; }, 5s));
  client.shutdown_write();
  EXPECT_TRUE(server.wait_for_open_at_most(0, 5s));
}

TEST(FaultServerTest, ResetsMidBodyAfterRelease) {
  fault_plan plan = plan_of(fault::reset_mid_body);
  plan.body_bytes = 1000;
  plan.partial_body = 10;
  plan.wait_for_release = true;
  fault_server server(plan);
  raw_client client = connected_client(server.port());
  ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
  std::string got;
  while (got.find("\r\n\r\n" + pattern_bytes(0, 10)) == std::string::npos) {
    const auto piece = client.read_some();
    ASSERT_TRUE(piece.ok()) << to_string(piece.status);
    got += piece.data;
  }
  EXPECT_EQ(server.stats().faults_done, 0u);
  server.release();
  const auto rest = client.read_until_close();
  EXPECT_EQ(rest.status, io_status::reset);
  EXPECT_TRUE(rest.data.empty());
}

TEST(FaultServerTest, SendsInterimResponsesThenTheFinalOne) {
  fault_plan plan = plan_of(fault::interim_responses);
  plan.interim_count = 4;
  fault_server server(plan);
  raw_client client = connected_client(server.port());
  ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
  for (const int status : {103, 100, 103, 100, 200}) {
    const auto response = client.read_response();
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.status, status);
  }
}

TEST(FaultServerTest, SendsExtraBytesAfterTheBody) {
  fault_plan plan = plan_of(fault::extra_bytes);
  plan.body_bytes = 10;
  plan.extra_bytes = 5;
  fault_server server(plan);
  raw_client client = connected_client(server.port());
  const auto response = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, pattern_bytes(0, 10));
  EXPECT_EQ(client.read_exact(5).data, pattern_bytes(10, 5));
}

TEST(FaultServerTest, AnswersEarlyWhileTheBodyIsStillComing) {
  fault_server server(plan_of(fault::early_final_response));
  raw_client client = connected_client(server.port());
  ASSERT_TRUE(client.send("PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npart"));
  const auto response = client.read_response();
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.header("connection").value_or(""), "close");
  EXPECT_TRUE(client.send(std::string(64 * 1024, 'b'))); // lingering: still read and dropped
  client.close();
  EXPECT_TRUE(server.wait_for_open_at_most(0, 5s));

  fault_plan abrupt = plan_of(fault::early_final_response);
  abrupt.linger = false;
  fault_server abrupt_server(abrupt);
  raw_client other = connected_client(abrupt_server.port());
  ASSERT_TRUE(other.send("PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npart"));
  ASSERT_TRUE(abrupt_server.wait_for_open_at_most(0, 5s)); // closed without waiting for the body
  EXPECT_EQ(other.read_response().status, 413);
}

TEST(FaultServerTest, MalformedAnswersAreWhatTheySayTheyAre) {
  fault_plan slow = plan_of(fault::slow_head);
  slow.byte_interval = 1ms;
  fault_server slow_server(slow);
  raw_client a = connected_client(slow_server.port());
  const auto slow_response = a.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(slow_response.ok()) << slow_response.error;
  EXPECT_EQ(slow_response.body, pattern_bytes(0, 64));

  fault_server garbage_server(plan_of(fault::garbage));
  raw_client b = connected_client(garbage_server.port());
  EXPECT_EQ(b.round_trip(raw_client::request("GET", "/")).io, io_status::failed);

  fault_server big_server(plan_of(fault::oversized_head));
  raw_client c = connected_client(big_server.port());
  const auto big = c.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(big.ok()) << big.error;
  EXPECT_GT(big.raw_head.size(), 256u * 1024u);

  fault_plan short_plan = plan_of(fault::short_body);
  fault_server short_server(short_plan);
  raw_client d = connected_client(short_server.port());
  const auto cut = d.round_trip(raw_client::request("GET", "/"));
  EXPECT_EQ(cut.io, io_status::closed);
  EXPECT_FALSE(cut.ok());

  fault_server delimited_server(plan_of(fault::close_delimited));
  raw_client e = connected_client(delimited_server.port());
  const auto delimited = e.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(delimited.ok()) << delimited.error;
  EXPECT_EQ(delimited.version_minor, 0);
  EXPECT_FALSE(delimited.header("content-length"));
  EXPECT_EQ(delimited.body, pattern_bytes(0, 64));

  fault_server reset_server(plan_of(fault::reset_mid_head));
  raw_client f = connected_client(reset_server.port());
  EXPECT_FALSE(f.round_trip(raw_client::request("GET", "/")).ok());
}

TEST(ChildProcessTest, WaitsForOutputLinesAndExitCode) {
  child_process child({"sh", "-c",
                       "echo starting; echo \"listening on port $PORT\" >&2; "
                       "echo done; exit 3"},
                      {{"PORT", "4321"}});
  const auto match = child.wait_for_match(R"(port (\d+))", 5s);
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ((*match)[1], "4321");
  EXPECT_EQ(child.wait_for_line("done", 5s, output_stream::stdout_stream), "done");
  EXPECT_EQ(child.wait_for_regex("^st.rt", 5s), "starting");
  EXPECT_EQ(child.wait_exit(5s), 3);
  EXPECT_FALSE(child.wait_for_line("never printed", 5s).has_value());
  EXPECT_NE(child.all_output().find("starting"), std::string::npos);
  EXPECT_EQ(child.stderr_text(), "listening on port 4321\n");
}

TEST(ChildProcessTest, SignalsAndKills) {
  child_process child({"sh", "-c", "echo ready; exec sleep 30"});
  ASSERT_TRUE(child.wait_for_line("ready", 5s));
  EXPECT_TRUE(child.running());
  EXPECT_TRUE(child.signal(SIGTERM));
  EXPECT_EQ(child.wait_exit(5s), 128 + SIGTERM);

  child_process stubborn({"sh", "-c", "trap '' TERM; echo ready; while :; do :; done"});
  ASSERT_TRUE(stubborn.wait_for_line("ready", 5s));
  stubborn.signal(SIGTERM);
  EXPECT_EQ(stubborn.wait_exit(200ms), -1);
  EXPECT_FALSE(stubborn.running());
}

TEST(ChildProcessTest, ThrowsWhenProgramMissing) {
  EXPECT_THROW(child_process({"/nonexistent/parallax"}), std::system_error);
}

TEST(HttpTextTest, QuotesJsonKeepingValidUtf8) {
  EXPECT_EQ(json_quote("a\"\\\n\x01"), R"("a\"\\\n\u0001")");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_quote("\xff"), R"("\u00ff")");
}

} // namespace
} // namespace parallax::test
