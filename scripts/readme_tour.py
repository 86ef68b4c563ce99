#!/usr/bin/env python3
"""readme_tour.py - the commands of the README's tour, as printed: the ```sh block between
<!-- tour:begin --> and <!-- tour:end --> in README.md, turned into one bash script that
prints each command ("$ command") before running it. scripts/demo.sh runs it and
tests/integration/test_readme_tour.py runs it, so the README cannot drift from what works.

    scripts/readme_tour.py [README.md]     # prints the script
"""
import os
import shlex
import sys

BEGIN, END = "<!-- tour:begin -->", "<!-- tour:end -->"


def commands(readme_text):
    """The tour's commands in order; a line ending in a backslash continues on the next."""
    start = readme_text.index(BEGIN)
    block = readme_text[start:readme_text.index(END, start)]
    lines = block.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    result, pending = [], ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if not line.endswith("\\"):
            result.append(pending.rstrip("\n"))
            pending = ""
    if pending:
        raise ValueError("the tour ends inside a continued line")
    return result


def script(readme_text):
    out = ["set -euo pipefail"]
    for command in commands(readme_text):
        out.append("printf '\\n$ %s\\n' " + shlex.quote(command))
        out.append(command)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
    with open(path) as f:
        sys.stdout.write(script(f.read()))
