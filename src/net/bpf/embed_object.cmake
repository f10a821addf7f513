# cmake -DIN=<object> -DOUT=<file.cc> -P embed_object.cmake: writes the BPF object
# as lp::net::bpf::kFastpathObject, so the binary carries it (no file to ship).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "// Generated from ${IN} by embed_object.cmake; do not edit.\n#include <cstddef>\n\nnamespace lp::net::bpf {\n\nalignas(8) extern const unsigned char kFastpathObject[] = {\n${bytes}\n};\nextern const size_t kFastpathObjectSize = ${size};\n\n}  // namespace lp::net::bpf\n")
