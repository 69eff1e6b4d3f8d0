"""Refuse a name that cannot be a module, a URL scheme and a registry name at once."""

import re
import sys

NAME = "{{ cookiecutter.name }}"

if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", NAME):
    sys.exit(
        f"error: name {NAME!r} must be lower-case letters and digits, starting with a "
        "letter, words joined by single underscores (it becomes the module "
        "tdtp_<kind>_<name>, the registered name and, for adapters and brokers, the "
        "URL scheme)"
    )
