"""Redirect targets: a parsed, normalised path on this site, or the default; never a way to another site."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

# Browsers drop tabs and newlines from a Location and read "\" as "/", so "/\t/evil.example" would leave the
# site: such a target is refused whole, never cleaned into something else.
_REFUSED = re.compile(r"[\x00-\x1f\x7f\\]")
_SAFE = "/:@!$&'()*+,;=-._~%"  # what a path may keep unescaped
MAX_LENGTH = 2000


def local_path(raw: object, default: str = "/") -> str:
    """``raw`` as a path (and query) on this site when it is one, else ``default``."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_LENGTH:
        return default
    if _REFUSED.search(raw) or _REFUSED.search(unquote(raw)):
        return default
    if not raw.startswith("/") or raw.startswith("//"):
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return default
    path = posixpath.normpath(re.sub(r"/{2,}", "/", parts.path))
    if parts.path.endswith("/") and path != "/":
        path += "/"
    path = quote(path, safe=_SAFE)
    if not path.startswith("/") or path.startswith("//"):
        return default
    return path + ("?" + quote(parts.query, safe="=&,;:@/+%") if parts.query else "")
