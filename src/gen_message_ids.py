#!/usr/bin/env python3
"""Generates message_ids.hpp from the journal catalog, the one source of pipejournal's MESSAGE_IDs.

    gen_message_ids.py units/pipejournal.catalog OUTPUT.hpp

Each catalog entry is preceded by a comment "# id: NAME"; the header gets
`inline constexpr MessageId NAME{"<32 hex digits>"};` in namespace pj::log::id.
"""
import re
import sys


def read_ids(path):
    ids, name = [], None
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if m := re.fullmatch(r"# id: ([a-z_][a-z0-9_]*)\n", line):
            name = m.group(1)
        elif m := re.fullmatch(r"-- ([0-9a-f]{32})\n", line):
            if name is None:
                sys.exit(f"{path}:{number}: catalog entry without a '# id: NAME' line before it")
            ids.append((name, m.group(1)))
            name = None
    names = [n for n, _ in ids]
    if len(set(names)) != len(names) or len({i for _, i in ids}) != len(ids):
        sys.exit(f"{path}: a name or an id appears twice")
    return ids


def main():
    source, output = sys.argv[1], sys.argv[2]
    lines = [
        "// Generated from units/pipejournal.catalog by src/gen_message_ids.py: edit the catalog.",
        "#pragma once",
        "",
        "#include <string_view>",
        "",
        "namespace pj::log {",
        "",
        "struct MessageId {",
        "    std::string_view name;",
        "    std::string_view id;  // 32 lowercase hex digits; explained in pipejournal.catalog",
        "};",
        "",
        "namespace id {",
    ]
    ids = read_ids(source)
    for name, value in ids:
        lines.append(f'inline constexpr MessageId {name}{{"{name}", "{value}"}};')
    lines.append("inline constexpr MessageId all[] = {" + ", ".join(n for n, _ in ids) + "};")
    lines += ["}  // namespace id", "", "}  // namespace pj::log", ""]
    with open(output, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))


if __name__ == "__main__":
    main()
