#include "mirror/grpc/proto_json.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <openssl/evp.h>

#include <boost/json/parse.hpp>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace parallax::mirror::grpc {

namespace pb = google::protobuf;

namespace {

constexpr const char* type_url_prefix = "type.googleapis.com";
// Nested length-delimited fields are tried as messages this deep at most.
constexpr int max_depth = 32;

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false; // the sequence is cut off
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

boost::json::value number(std::uint64_t v) {
  // Beyond 2^53 a JSON number loses digits: such values are strings (as proto3 JSON does).
  if (v > (std::uint64_t{1} << 53)) return boost::json::value(std::to_string(v));
  return boost::json::value(v);
}

boost::json::value fields_json(const pb::UnknownFieldSet& set, int depth);

// Text a person would write: UTF-8 without control characters other than tab and line ends.
// (A message's field keys are mostly control characters, so text and messages rarely mix up;
// short text such as "hi" would also parse as a message.)
bool printable_text(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return false;
  }
  return valid_utf8(s);
}

boost::json::value length_delimited(const std::string& bytes, int depth) {
  if (printable_text(bytes)) return boost::json::value(bytes);
  if (depth < max_depth) {
    pb::UnknownFieldSet nested;
    if (nested.ParseFromString(bytes) && nested.field_count() > 0) {
      return fields_json(nested, depth + 1);
    }
  }
  if (valid_utf8(bytes)) return boost::json::value(bytes);
  boost::json::object o;
  o["base64"] = base64(bytes);
  return o;
}

boost::json::value field_json(const pb::UnknownField& f, int depth) {
  switch (f.type()) {
  case pb::UnknownField::TYPE_VARINT: return number(f.varint());
  case pb::UnknownField::TYPE_FIXED32: return boost::json::value(f.fixed32());
  case pb::UnknownField::TYPE_FIXED64: return number(f.fixed64());
  case pb::UnknownField::TYPE_LENGTH_DELIMITED: return length_delimited(f.length_delimited(), depth);
  case pb::UnknownField::TYPE_GROUP: return fields_json(f.group(), depth + 1);
  }
  return nullptr;
}

boost::json::value fields_json(const pb::UnknownFieldSet& set, int depth) {
  boost::json::object o;
  for (int i = 0; i < set.field_count(); ++i) {
    const auto& f = set.field(i);
    const auto key = std::to_string(f.number());
    auto value = field_json(f, depth);
    if (auto* existing = o.if_contains(key)) {
      // A single field's value is never an array here, so an array is the repetition's.
      if (!existing->is_array()) {
        boost::json::array a;
        a.push_back(std::move(*existing));
        *existing = std::move(a);
      }
      existing->as_array().push_back(std::move(value));
    } else {
      o[key] = std::move(value);
    }
  }
  return o;
}

} // namespace

std::optional<boost::json::value> wire_to_json(std::string_view bytes) {
  pb::UnknownFieldSet set;
  if (!set.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return fields_json(set, 0);
}

struct descriptor_set::impl {
  pb::SimpleDescriptorDatabase database;
  pb::DescriptorPool pool{&database};
  std::unique_ptr<pb::util::TypeResolver> resolver;
  mutable std::mutex mutex; // conversions share the message factory
  mutable pb::DynamicMessageFactory factory{&pool};
  // Every method by path ("/pkg.Service/Method"), built at load: read on the live path (the
  // mirroring decision) without a lock.
  std::map<std::string, method_types, std::less<>> methods;
};

descriptor_set::descriptor_set(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
descriptor_set::~descriptor_set() = default;

std::shared_ptr<const descriptor_set> descriptor_set::load(const std::vector<std::string>& files,
                                                           std::string& error) {
  auto p = std::make_unique<impl>();
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      error = file + ": cannot be read";
      return nullptr;
    }
    std::stringstream content;
    content << in.rdbuf();
    pb::FileDescriptorSet set;
    if (!set.ParseFromString(content.str())) {
      error = file + ": not a FileDescriptorSet (protoc --include_imports --descriptor_set_out)";
      return nullptr;
    }
    for (const auto& proto : set.file()) {
      // The same file from two sets (a shared import) is fine; a different one is not.
      pb::FileDescriptorProto known;
      if (p->database.FindFileByName(proto.name(), &known)) {
        if (known.SerializeAsString() != proto.SerializeAsString()) {
          error = file + ": " + proto.name() + " differs from the one in an earlier set";
          return nullptr;
        }
        continue;
      }
      p->database.Add(proto);
    }
  }
  // Build every file now, so a broken set fails the load, not a comparison.
  std::vector<std::string> names;
  p->database.FindAllFileNames(&names);
  for (const auto& name : names) {
    if (p->pool.FindFileByName(name) == nullptr) {
      error = name + ": does not build (a missing import? protoc --include_imports)";
      return nullptr;
    }
  }
  for (const auto& name : names) {
    const auto* file = p->pool.FindFileByName(name);
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const auto* method = service->method(m);
        method_types t;
        t.request = method->input_type()->full_name();
        t.response = method->output_type()->full_name();
        t.client_streaming = method->client_streaming();
        t.server_streaming = method->server_streaming();
        const auto level = method->options().idempotency_level();
        t.idempotent = level == pb::MethodOptions::NO_SIDE_EFFECTS ||
                       level == pb::MethodOptions::IDEMPOTENT;
        p->methods["/" + service->full_name() + "/" + method->name()] = std::move(t);
      }
    }
  }
  p->resolver.reset(pb::util::NewTypeResolverForDescriptorPool(type_url_prefix, &p->pool));
  return std::shared_ptr<const descriptor_set>(new descriptor_set(std::move(p)));
}

const method_types* descriptor_set::method(std::string_view path) const noexcept {
  const auto it = impl_->methods.find(path);
  return it == impl_->methods.end() ? nullptr : &it->second;
}

std::optional<boost::json::value> descriptor_set::to_json(const std::string& type,
                                                          std::string_view bytes) const {
  std::lock_guard lock(impl_->mutex);
  const auto* descriptor = impl_->pool.FindMessageTypeByName(type);
  if (descriptor == nullptr) return std::nullopt;
  // Validate first: the converter accepts some malformed input that parsing rejects.
  std::unique_ptr<pb::Message> message(impl_->factory.GetPrototype(descriptor)->New());
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = pb::util::BinaryToJsonString(
      impl_->resolver.get(), std::string(type_url_prefix) + "/" + type, std::string(bytes), &json,
      options);
  if (!status.ok()) return std::nullopt;
  boost::json::error_code ec;
  auto value = boost::json::parse(json, ec);
  if (ec) return std::nullopt;
  const auto& unknown = message->GetReflection()->GetUnknownFields(*message);
  if (unknown.field_count() > 0 && value.is_object()) {
    value.as_object()["unknown_fields"] = fields_json(unknown, 0);
  }
  return value;
}

boost::json::value message_json(const descriptor_set* descriptors, const std::string& type,
                                std::string_view bytes) {
  if (descriptors != nullptr && !type.empty()) {
    if (auto v = descriptors->to_json(type, bytes)) return std::move(*v);
  }
  if (auto v = wire_to_json(bytes)) return std::move(*v);
  boost::json::object o;
  o["base64"] = base64(bytes);
  return o;
}

} // namespace parallax::mirror::grpc
