"""An independent AWS Signature Version 4 implementation (hashlib/hmac).

Used by the AGCOD emulator to verify what agcod sends, and by the tests as
the second implementation in the differential test.  It shares no code with
agcod's src/sigv4.c.  `mistakes` reproduces the common signing errors that
agcod's sign-debug diagnoses.
"""
import hashlib
import hmac
import posixpath
import re
import urllib.parse

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def _quote(b, safe=""):
    return urllib.parse.quote(b, safe=safe + "-_.~")


def canonical_path(path, normalize=True):
    if normalize:
        raw = path or "/"
        trailing = raw.endswith("/")
        norm = posixpath.normpath(raw)
        if norm.startswith("//"):
            norm = "/" + norm.lstrip("/")
        norm = re.sub("/+", "/", norm)
        if norm in (".", ""):
            norm = "/"
        if trailing and norm != "/":
            norm += "/"
        path = norm
    return _quote(path.encode("utf-8", "surrogateescape"), safe="/")


def canonical_query(query):
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = urllib.parse.unquote_to_bytes(k)
        v = urllib.parse.unquote_to_bytes(v)
        pairs.append((_quote(k), _quote(v)))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def _fold(v, untrimmed):
    if untrimmed:
        return v
    return " ".join(v.split())


def canonical_headers(headers, mistakes=()):
    """headers: list of (name, value) in the order sent."""
    rows = []
    for i, (name, value) in enumerate(headers):
        n = name if "name_case" in mistakes else name.lower()
        rows.append((n, i, _fold(value, "untrimmed" in mistakes)))
    if "unsorted" not in mistakes:
        rows.sort(key=lambda r: (r[0], r[1]))
    merged = []
    for n, _, v in rows:
        if merged and merged[-1][0] == n:
            merged[-1][1].append(v)
        else:
            merged.append([n, [v]])
    text = "".join(f"{n}:{','.join(vs)}\n" for n, vs in merged)
    return text, ";".join(n for n, _ in merged)


def _step(n, key, msg, swap_steps, hex_steps):
    """HMAC step n (1 kDate, 2 kRegion, 3 kService, 4 kSigning, 5 signature),
    with the key fed in as hex text and/or key and data swapped."""
    if n in hex_steps:
        key = key.hex().encode()
    if n in swap_steps:
        key, msg = msg, key
    return hmac.new(key, msg, hashlib.sha256).digest()


def _steps(mistakes, swap_steps, hex_steps):
    swap = set(swap_steps or ())
    hexs = set(hex_steps or ())
    if "swapped" in mistakes:
        swap |= {1, 2, 3, 4}
    if "hex_keys" in mistakes:
        hexs |= {2, 3, 4}
    return swap, hexs


def signing_key(secret, date8, region, service, mistakes=(), swap_steps=(),
                hex_steps=()):
    swap, hexs = _steps(mistakes, swap_steps, hex_steps)
    k = secret.encode() if "no_aws4" in mistakes else ("AWS4" + secret).encode()
    for n, part in enumerate((date8, region, service, "aws4_request"), 1):
        k = _step(n, k, part.encode(), swap, hexs)
    return k


def sign(method, path, query, headers, body, key_id, secret, region, service,
         amz_date, mistakes=(), normalize=True, scope_date=None, swap_steps=(),
         hex_steps=()):
    """Returns a dict with every intermediate value."""
    ch, sh = canonical_headers(headers, mistakes)
    payload_hash = hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, canonical_path(path, normalize),
                      canonical_query(query), ch, sh, payload_hash])
    creq_hash = hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()
    date8 = scope_date or amz_date[:8]
    scope = f"{date8}/{region}/{service}/aws4_request"
    sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{creq_hash}"
    k = signing_key(secret, date8, region, service, mistakes, swap_steps, hex_steps)
    swap, hexs = _steps(mistakes, swap_steps, hex_steps)
    sig = _step(5, k, sts.encode(), swap, hexs).hex()
    return {
        "canonical_request": creq,
        "canonical_request_hash": creq_hash,
        "payload_hash": payload_hash,
        "string_to_sign": sts,
        "credential_scope": scope,
        "signed_headers": sh,
        "signature": sig,
        "signing_key": k.hex(),
        "authorization": (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                          f"SignedHeaders={sh}, Signature={sig}"),
    }


AUTHZ = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<cred>[^,]+), *"
                   r"SignedHeaders=(?P<sh>[^,]+), *Signature=(?P<sig>[0-9a-f]{64})$")


def parse_authorization(value):
    m = AUTHZ.match(value.strip())
    if not m:
        return None
    parts = m.group("cred").rsplit("/", 4)
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return {"key_id": parts[0], "date": parts[1], "region": parts[2],
            "service": parts[3], "signed_headers": m.group("sh").split(";"),
            "signature": m.group("sig")}
