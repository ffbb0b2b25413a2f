#include "common/base/proto_json.h"

#include <google/protobuf/util/json_util.h>

namespace scout {

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  // Cannot fail for Scout's messages: none holds an Any.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace scout
