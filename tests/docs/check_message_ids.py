#!/usr/bin/env python3
"""Every MESSAGE_ID named in the documentation is one of the catalog's, and every catalog id is
documented: the catalog (units/pipejournal.catalog) is their one source.

    check_message_ids.py CATALOG DOC...
"""
import re
import sys

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")

# systemd's own MESSAGE_IDs the documentation may name (sd-messages.h).
SYSTEMD_IDS = {
    "a596d6fe7bfa4994828e72309e95d61e": "SD_MESSAGE_JOURNAL_DROPPED (journald suppressed entries)",
}


def main():
    catalog, docs = sys.argv[1], sys.argv[2:]
    known = set(re.findall(r"^-- ([0-9a-f]{32})$", open(catalog).read(), re.M))
    failed = False
    for doc in docs:
        seen = set(HEX32.findall(open(doc).read()))
        for unknown in sorted(seen - known - SYSTEMD_IDS.keys()):
            print(f"{doc}: names {unknown}, which is not in {catalog}")
            failed = True
        for missing in sorted(known - seen):
            print(f"{doc}: does not name {missing} from {catalog}")
            failed = True
    print(f"{len(known)} MESSAGE_IDs checked in {len(docs)} documents")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
