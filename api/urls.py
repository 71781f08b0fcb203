"""Which links a client is willing to download.

Download URLs come from the supplier's data (image links, report files), so they are untrusted:
only http(s), https unless it is the API host itself (local emulators and test servers speak
plain http), and only hosts on the allow-list. Messages name the host, never the full URL, since
file links may carry signed tokens.
"""

from urllib.parse import urljoin, urlsplit

from .errors import UnsafeUrl


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def hostname(url):
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise UnsafeUrl("Malformed download URL") from None
    return (parts.hostname or "").rstrip(".")


def resolve_download_url(url, base_url):
    """Absolute URL for ``url``: relative paths hang off the API origin, '//host/x' gets https."""
    url = (url or "").strip()
    if not url:
        raise UnsafeUrl("Empty download URL")
    if url.startswith("//"):
        return "https:" + url
    return urljoin(origin(base_url) + "/", url)


def host_allowed(host, allowed_hosts):
    """'etm.ru' allows etm.ru and any subdomain, never 'etm.ru.evil.com' or 'eviletm.ru'."""
    host = host.lower()
    for entry in allowed_hosts:
        entry = entry.strip().lower().removeprefix("*.").lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def check_download_url(url, base_url, allowed_hosts):
    """Raise UnsafeUrl unless ``url`` (absolute) may be fetched; return its host."""
    parts = urlsplit(url)
    host = hostname(url)
    base_host = hostname(base_url)
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeUrl("Only http(s) links can be downloaded")
    if parts.username or parts.password:
        raise UnsafeUrl(f"Refusing a download link with credentials for host {host}")
    if host == base_host:
        return host
    if parts.scheme != "https":
        raise UnsafeUrl(f"Refusing a plain http download from {host}: https is required")
    if not host_allowed(host, allowed_hosts):
        raise UnsafeUrl(f"Refusing to download from {host}: not an allowed host")
    return host
