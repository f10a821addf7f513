// XmlWriter: builds response documents by appending to one string. Escapes text;
// element names are trusted constants. Not thread-safe; one per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"

namespace lp::api {

class XmlWriter {
 public:
  class Scope {
   public:
    Scope(XmlWriter& w, std::string_view tag) : w_(w), tag_(tag) { w_.open(tag_); }
    ~Scope() { w_.close(tag_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    XmlWriter& w_;
    std::string_view tag_;
  };

  void open(std::string_view tag) {
    out_ += '<';
    out_ += tag;
    out_ += '>';
  }
  void openWithXmlns(std::string_view tag, std::string_view ns) {
    out_ += '<';
    out_ += tag;
    out_ += " xmlns=\"";
    out_ += ns;
    out_ += "\">";
  }
  void close(std::string_view tag) {
    out_ += "</";
    out_ += tag;
    out_ += '>';
  }
  Scope scope(std::string_view tag) { return Scope(*this, tag); }
  void leaf(std::string_view tag, std::string_view text) {
    open(tag);
    out_ += xmlEscape(text);
    close(tag);
  }
  void leaf(std::string_view tag, const char* text) { leaf(tag, std::string_view(text)); }
  void leaf(std::string_view tag, const std::string& text) { leaf(tag, std::string_view(text)); }
  void leaf(std::string_view tag, bool b) { leaf(tag, std::string_view(b ? "true" : "false")); }
  void leaf(std::string_view tag, int64_t n) { leaf(tag, std::string_view(std::to_string(n))); }
  void leaf(std::string_view tag, int n) { leaf(tag, static_cast<int64_t>(n)); }
  void leaf(std::string_view tag, uint64_t n) { leaf(tag, std::string_view(std::to_string(n))); }
  // Writes the element only when text is not empty.
  void leafIf(std::string_view tag, std::string_view text) {
    if (!text.empty()) leaf(tag, text);
  }
  void empty(std::string_view tag) {
    out_ += '<';
    out_ += tag;
    out_ += "/>";
  }
  // EC2 list of strings: <tag><item>v</item>...</tag> (or <tag/> when empty).
  void stringItems(std::string_view tag, const std::vector<std::string>& values, std::string_view item = "item") {
    if (values.empty()) return empty(tag);
    auto s = scope(tag);
    for (auto& v : values) leaf(item, v);
  }
  void raw(std::string_view s) { out_ += s; }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

}  // namespace lp::api
