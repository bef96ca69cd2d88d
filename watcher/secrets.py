"""Secret redaction: the one rule for what a log line, a stored error or a shown message may
not carry. Used by logging (every record) and by alert delivery (errors and third-party logs).

`redact` masks anything URL- or token-shaped (URL credentials, token-like path parts, query
values, Slack webhooks and tokens, bearer and keyword secrets) and keeps scheme and server host
so the line stays useful; `url_secrets` + `mask_secrets` also remove the exact parts of a known
channel URL wherever they appear, even outside a URL.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

MASK = "***"
# Schemes whose host part is a server name; for every other (apprise) scheme the "host" is
# usually a token (slack://TokenA/..., tgram://bot_token/...), so it is masked too.
_HOST_SCHEMES = frozenset(
    "http https json jsons xml xmls form forms mailto mailtos smtp smtps ftp ws wss "
    "postgresql postgres mysql sqlite redis amqp".split()
)
_URL_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>[^\s'\"<>`]+)")
# Slack webhook paths are secrets whatever their segments look like.
_SLACK_HOOK_RE = re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"<>`]+")
_SLACK_TOKEN_RE = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+")
_AUTH_HEADER_RE = re.compile(r"(?i)\b(authorization\s*[:=]\s*)([A-Za-z]+)\s+[^\s,;]+")
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)[^\s,;]+")
# `password: x`, `api_token=x`, `access_key=x` (a bare `key: x` is too often an ordinary word)
_KEYWORD_SECRET_RE = re.compile(
    r"(?i)\b(\w*(?:token|apikey|api_key|password|passwd|secret)\s*[=:]\s*|\w*key=)"
    r"(?!\*\*\*)[^\s&;,'\"]+"
)


def _keeps_host(scheme: str) -> bool:
    parts = scheme.lower().split("+")
    return parts[0] in _HOST_SCHEMES or parts[-1] in _HOST_SCHEMES


def _token_like(segment: str) -> bool:
    has_digit = any(c.isdigit() for c in segment)
    has_alpha = any(c.isalpha() for c in segment)
    return (len(segment) >= 8 and has_digit and has_alpha) or len(segment) >= 20


def _split_rest(rest: str) -> tuple[str, str, str | None, str | None]:
    """authority, path, query, fragment of the part after `scheme://`."""
    match = re.match(r"([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?", rest, re.S)
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2), match.group(3), match.group(4)


def _redact_url(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    authority, path, query, fragment = _split_rest(match.group("rest"))
    _, at, hostport = authority.rpartition("@")
    keep_host = _keeps_host(scheme)
    out = f"{scheme}://{MASK + '@' if at else ''}{hostport if keep_host else MASK}"
    segments = path.split("/")
    out += "/".join(
        MASK if seg and seg != MASK and (not keep_host or _token_like(seg)) else seg
        for seg in segments
    )
    if query is not None:
        pairs = [p.partition("=") for p in query.split("&") if p]
        out += "?" + "&".join(f"{k}={MASK}" if eq else MASK for k, eq, _ in pairs)
    if fragment:
        out += "#" + MASK
    return out


def redact(text: str) -> str:
    """Mask credentials and tokens in URLs (userinfo, token-like path parts, query values)
    and bare tokens, keeping scheme and server host so a log line stays useful."""
    text = _SLACK_HOOK_RE.sub(rf"\1{MASK}", text)
    text = _URL_RE.sub(_redact_url, text)
    text = _SLACK_TOKEN_RE.sub(f"xox?-{MASK}", text)
    text = _AUTH_HEADER_RE.sub(rf"\1\2 {MASK}", text)
    text = _BEARER_RE.sub(rf"\1{MASK}", text)
    return _KEYWORD_SECRET_RE.sub(rf"\1{MASK}", text)


def url_secrets(url: str) -> frozenset[str]:
    """The exact strings of a channel URL that must never be shown (and their %-encodings)."""
    found: set[str] = {url}
    match = _URL_RE.match(url.strip())
    if match is not None:
        authority, path, query, fragment = _split_rest(match.group("rest"))
        userinfo, _, hostport = authority.rpartition("@")
        user, _, password = userinfo.partition(":")
        if len(password) >= 3:
            found.add(password)
        candidates = [user, fragment or "", *path.split("/")]
        candidates += [p.partition("=")[2] for p in (query or "").split("&")]
        if not _keeps_host(match.group("scheme")):
            candidates += [hostport, hostport.partition(":")[0]]
        found.update(c for c in candidates if len(c) >= 6 or (c and _token_like(c)))
    decoded = {unquote(s) for s in found}
    return frozenset(decoded | {quote(s, safe="") for s in decoded} | found)


def mask_secrets(text: str, secrets: frozenset[str]) -> str:
    """Replace every exact occurrence of a secret (longest first) and then `redact`."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            # a whole URL keeps its scheme and server; its parts are masked by later rounds
            text = text.replace(secret, redact(secret) if "://" in secret else MASK)
    return redact(text)
