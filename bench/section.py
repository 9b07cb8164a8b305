#!/usr/bin/env python3
"""One named section of docs/benchmarks.md, between <!-- NAME:begin --> and
<!-- NAME:end -->, so a part measured alone replaces only itself.

    section.py wrap NAME TITLE BODY.md        prints the section: heading, body, markers
    section.py carry NAME PREVIOUS.md         prints the section as PREVIOUS.md had it
    section.py splice NAME DOC.md PART.md     puts PART.md into DOC.md in place (or at the end)
"""
import sys
from pathlib import Path


def markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def find(text, name):
    begin, end = markers(name)
    i, j = text.find(begin), text.find(end)
    return text[i:j + len(end)] if i >= 0 and j > i else ""


def main():
    cmd, name = sys.argv[1], sys.argv[2]
    if cmd == "wrap":
        title, body = sys.argv[3], Path(sys.argv[4]).read_text().strip()
        begin, end = markers(name)
        print(f"{begin}\n## {title}\n\n{body}\n{end}")
    elif cmd == "carry":
        prev = Path(sys.argv[3])
        print(find(prev.read_text(), name) if prev.exists() else "")
    elif cmd == "splice":
        doc, part = Path(sys.argv[3]), Path(sys.argv[4]).read_text().strip()
        if not part:
            return
        text = doc.read_text() if doc.exists() else "# Benchmarks\n"
        old = find(text, name)
        text = text.replace(old, part) if old else text.rstrip() + "\n\n" + part + "\n"
        doc.write_text(text if text.endswith("\n") else text + "\n")
    else:
        sys.exit(f"section.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
