#include "demo/grpc_shop.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <fstream>

#include "mirror/grpc/proto_json.hpp"
#include "mirror/grpc/wire_writer.hpp"
#include "mirror/report/record.hpp"

namespace parallax::demo {

namespace wire = mirror::grpc::wire;
namespace pb = google::protobuf;

namespace {

struct product {
  int id;
  const char* name;
  std::int64_t price_cents;
};
constexpr std::array<product, 6> products{{{1, "Walnut desk", 34900},
                                           {2, "Oak chair", 12950},
                                           {3, "Lamp", 1999},
                                           {4, "Bookshelf", 21000},
                                           {5, "Rug", 8990},
                                           {6, "Mirror", 5900}}};

// demo.Product: id = 1, name = 2, price_cents = 3, currency = 4, updated_at = 5.
std::string product_message(const product& p, bool preview) {
  std::string out;
  wire::put_varint_field(out, 1, static_cast<std::uint64_t>(p.id));
  wire::put_bytes_field(out, 2, preview && p.id == 2 ? "Oak Chair" : p.name);
  if (preview && p.id == 3) {
    wire::put_bytes_field(out, 3, fmt::format("{}.{:02}", p.price_cents / 100, p.price_cents % 100));
  } else {
    wire::put_varint_field(out, 3, static_cast<std::uint64_t>(p.price_cents));
  }
  wire::put_bytes_field(out, 4, "EUR");
  wire::put_bytes_field(out, 5, mirror::report::format_time(std::chrono::system_clock::now(), true));
  if (preview && p.id == 6) wire::put_varint_field(out, 6, 12); // a field the descriptors lack
  return out;
}

// Field 1 of a request message (ProductRequest.id, ListRequest.limit, OrderRequest.product).
int first_field(std::string_view request) {
  const auto v = mirror::grpc::wire_to_json(request);
  if (!v || !v->is_object()) return 0;
  const auto* f = v->as_object().if_contains("1");
  if (f == nullptr || !f->is_number()) return 0;
  boost::system::error_code ec;
  const auto n = f->to_number<std::int64_t>(ec);
  return ec || n < 0 || n > 1000000 ? 0 : static_cast<int>(n);
}

void add_field(pb::DescriptorProto& m, const char* name, int number,
               pb::FieldDescriptorProto::Type type) {
  auto* f = m.add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
}

void add_method(pb::ServiceDescriptorProto& s, const char* name, const char* in, const char* out,
                bool server_streaming, bool no_side_effects) {
  auto* m = s.add_method();
  m->set_name(name);
  m->set_input_type(in);
  m->set_output_type(out);
  m->set_server_streaming(server_streaming);
  if (no_side_effects) m->mutable_options()->set_idempotency_level(pb::MethodOptions::NO_SIDE_EFFECTS);
}

} // namespace

grpc_answer answer_grpc(bool preview, std::string_view path, std::string_view request) {
  grpc_answer a;
  if (path == "/demo.Shop/GetProduct") {
    const int id = first_field(request);
    if (id < 1 || id > static_cast<int>(products.size()) || (preview && id == 5)) {
      a.status = 5; // NOT_FOUND
      a.message = "no such product";
      return a;
    }
    wire::put_framed(a.body, product_message(products[static_cast<std::size_t>(id - 1)], preview));
    return a;
  }
  if (path == "/demo.Shop/ListProducts") {
    const auto limit = std::min<std::size_t>(static_cast<std::size_t>(std::max(first_field(request), 0)),
                                             products.size());
    for (std::size_t i = 0; i < limit; ++i)
      wire::put_framed(a.body, product_message(products[i], false));
    return a;
  }
  if (path == "/demo.Shop/PlaceOrder") {
    std::string order;
    wire::put_bytes_field(order, 1, "order-1001");
    wire::put_varint_field(order, 2, static_cast<std::uint64_t>(first_field(request)));
    wire::put_framed(a.body, order);
    return a;
  }
  a.status = 12; // UNIMPLEMENTED
  a.message = "unknown method";
  return a;
}

std::string product_request(int id) {
  std::string out;
  wire::put_varint_field(out, 1, static_cast<std::uint64_t>(id));
  return out;
}

bool write_shop_descriptors(const std::string& path) {
  using type = pb::FieldDescriptorProto;
  pb::FileDescriptorSet set;
  auto& file = *set.add_file();
  file.set_name("demo/shop.proto");
  file.set_package("demo");
  file.set_syntax("proto3");
  auto& request = *file.add_message_type();
  request.set_name("ProductRequest");
  add_field(request, "id", 1, type::TYPE_INT32);
  auto& list = *file.add_message_type();
  list.set_name("ListRequest");
  add_field(list, "limit", 1, type::TYPE_INT32);
  auto& product = *file.add_message_type();
  product.set_name("Product");
  add_field(product, "id", 1, type::TYPE_INT32);
  add_field(product, "name", 2, type::TYPE_STRING);
  add_field(product, "price_cents", 3, type::TYPE_INT64);
  add_field(product, "currency", 4, type::TYPE_STRING);
  add_field(product, "updated_at", 5, type::TYPE_STRING);
  auto& order_request = *file.add_message_type();
  order_request.set_name("OrderRequest");
  add_field(order_request, "product", 1, type::TYPE_INT32);
  auto& order = *file.add_message_type();
  order.set_name("Order");
  add_field(order, "id", 1, type::TYPE_STRING);
  add_field(order, "product", 2, type::TYPE_INT32);
  auto& shop = *file.add_service();
  shop.set_name("Shop");
  add_method(shop, "GetProduct", ".demo.ProductRequest", ".demo.Product", false, true);
  add_method(shop, "ListProducts", ".demo.ListRequest", ".demo.Product", true, true);
  add_method(shop, "PlaceOrder", ".demo.OrderRequest", ".demo.Order", false, false);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  return set.SerializeToOstream(&out) && out.flush();
}

} // namespace parallax::demo
