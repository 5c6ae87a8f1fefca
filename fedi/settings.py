"""Instance settings: read from ``FEDI_*`` environment variables and an optional TOML file.

Every value is validated when the settings are built; each bad value yields one clear problem in
a :class:`SettingsError`, so that ``fedi serve`` refuses to start with a complete list of what to
fix.
The environment wins over the file, so a deployment can override one value without editing the file.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from fedi.files import private_directory, private_file
from fedi.net.urls import LOOPBACK_NETWORKS, IPNetwork
from fedi.vocabulary import LOCALES, country_codes, normalise_country

__all__ = ["Settings", "SettingsError", "load_settings"]

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret

# Local names that would shadow routes or be mistaken for the instance itself: no member or
# group may take them.
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "instance",
        "actor",
        "system",
        "support",
        "postmaster",
        "webmaster",
        "abuse",
        "security",
        "nodeinfo",
        "well_known",
        "inbox",
        "outbox",
    }
)

# Variable name -> key in fedi.toml (lower case, without the prefix).
_VARIABLES = (
    "FEDI_BASE_URL",
    "FEDI_INSTANCE_NAME",
    "FEDI_COUNTRY",
    "FEDI_DATABASE_URL",
    "FEDI_DATA_DIR",
    "FEDI_SECRET_KEY",
    "FEDI_HOST",
    "FEDI_PORT",
    "FEDI_TLS_CERT",
    "FEDI_TLS_KEY",
    "FEDI_ALLOW_PRIVATE_ADDRESSES",
    "FEDI_CA_BUNDLE",
    "FEDI_HTTP_PROXY",
    "FEDI_NETWORK_HANDLE",
    "FEDI_AUTHORIZED_FETCH",
    "FEDI_DELIVERY_CONCURRENCY_PER_HOST",
    "FEDI_LIVE_SEARCH_DEADLINE",
    "FEDI_LOG_LEVEL",
    # The front door (fedi serve facing clients, and the proxies in front of it).
    "FEDI_TRUSTED_PROXIES",
    "FEDI_RECEIVE_TIMEOUT",
    "FEDI_MAX_CONNECTIONS",
    # E-mail for notifications.
    "FEDI_SMTP_URL",
    "FEDI_SMTP_FROM",
    "FEDI_MEDIA_MAX_BYTES",
    "FEDI_LANGUAGE",
)


class SettingsError(Exception):
    """One or more settings are invalid; ``problems`` holds one line for each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """The validated settings of one instance. Build it with :func:`load_settings`."""

    base_url: str
    instance_name: str
    country: str
    database_url: str
    data_dir: Path
    secret_key: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    tls_cert: Path | None = None
    tls_key: Path | None = None
    private_networks: tuple[IPNetwork, ...] = ()
    ca_bundle: Path | None = None
    http_proxy: str | None = None
    network_handle: str = "network"
    authorized_fetch: bool = False
    delivery_concurrency_per_host: int = 4
    # Missing ancestors of a received reply: at most this many fetches, within this many seconds.
    reply_fetch_limit: int = 10
    reply_fetch_deadline: int = 30
    # The earlier posts of a thread first seen here, read from its context collection: at most
    # this many fetches (collection pages and posts), within this many seconds, per activity.
    thread_fetch_limit: int = 40
    thread_fetch_deadline: int = 60
    # Peered instances: seconds between two readings of a peer's offers collection.
    peer_sync_interval: int = 3600
    # Seconds a live partner search waits for each partner instance's answer.
    live_search_deadline: int = 3
    log_level: str = "INFO"
    # The front door: proxies whose X-Forwarded-For and X-Request-Id are believed; seconds a
    # client has to send a request's headers and body; connections served at once.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    receive_timeout: int = 30
    max_connections: int = 1000
    # E-mail for notifications: off unless an SMTP server is named.
    smtp_url: str | None = field(default=None, repr=False)
    smtp_from: str = ""
    # Uploaded files (experience images and documents): the largest accepted, in bytes.
    media_max_bytes: int = 10 * 1024 * 1024
    # The instance's language: e-mails to members who never chose one are written in it.
    language: str = "en"

    @cached_property
    def domain(self) -> str:
        """The host (with ``:port`` when not the scheme's default) that names this instance."""
        return urlsplit(self.base_url).netloc

    @cached_property
    def scheme(self) -> str:
        return urlsplit(self.base_url).scheme

    @property
    def allow_private_addresses(self) -> bool:
        """Whether outgoing requests may reach some non-public network (and plain http)."""
        return bool(self.private_networks)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, str]:
        """Effective settings for display, with secrets (and database passwords) masked."""
        return {
            "FEDI_BASE_URL": self.base_url,
            "FEDI_INSTANCE_NAME": self.instance_name,
            "FEDI_COUNTRY": self.country,
            "FEDI_DATABASE_URL": mask_url_password(self.database_url),
            "FEDI_DATA_DIR": str(self.data_dir),
            "FEDI_SECRET_KEY": "********",
            "FEDI_HOST": self.host,
            "FEDI_PORT": str(self.port),
            "FEDI_TLS_CERT": str(self.tls_cert or ""),
            "FEDI_TLS_KEY": str(self.tls_key or ""),
            "FEDI_ALLOW_PRIVATE_ADDRESSES": ",".join(map(str, self.private_networks)) or "off",
            "FEDI_CA_BUNDLE": str(self.ca_bundle or ""),
            "FEDI_HTTP_PROXY": self.http_proxy or "",
            "FEDI_NETWORK_HANDLE": self.network_handle,
            "FEDI_AUTHORIZED_FETCH": "on" if self.authorized_fetch else "off",
            "FEDI_DELIVERY_CONCURRENCY_PER_HOST": str(self.delivery_concurrency_per_host),
            "FEDI_REPLY_FETCH_LIMIT": str(self.reply_fetch_limit),
            "FEDI_REPLY_FETCH_DEADLINE": str(self.reply_fetch_deadline),
            "FEDI_THREAD_FETCH_LIMIT": str(self.thread_fetch_limit),
            "FEDI_THREAD_FETCH_DEADLINE": str(self.thread_fetch_deadline),
            "FEDI_PEER_SYNC_INTERVAL": str(self.peer_sync_interval),
            "FEDI_LIVE_SEARCH_DEADLINE": str(self.live_search_deadline),
            "FEDI_LOG_LEVEL": self.log_level,
            "FEDI_TRUSTED_PROXIES": ",".join(str(network) for network in self.trusted_proxies),
            "FEDI_RECEIVE_TIMEOUT": str(self.receive_timeout),
            "FEDI_MAX_CONNECTIONS": str(self.max_connections),
            "FEDI_SMTP_URL": mask_url_password(self.smtp_url or ""),
            "FEDI_SMTP_FROM": self.smtp_from,
            "FEDI_MEDIA_MAX_BYTES": str(self.media_max_bytes),
            "FEDI_LANGUAGE": self.language,
        }


def mask_url_password(url: str) -> str:
    """``url`` with any password masked: in the login part or as a ``password=`` parameter."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    query = "&".join(
        f"{key}=********" if key.lower() == "password" else f"{key}{sep}{value}"
        for key, sep, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    if password is None and query == parts.query:
        return url  # nothing to mask; geturl() would also drop sqlite:///'s empty authority
    if password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{password}@", ":********@", 1))
    return parts._replace(query=query).geturl()


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    *,
    create_secret: bool = True,
) -> Settings:
    """Build settings from ``environ`` (default: ``os.environ``) over the optional TOML file.

    Raises :class:`SettingsError` listing every invalid value. When no secret key is configured, one
    is generated and stored in the data directory (``create_secret``), so it survives restarts.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    problems: list[str] = []
    if config_file is not None:
        raw.update(_read_toml(config_file, problems))
    for name in _VARIABLES:
        if name in env and env[name] != "":
            raw[name] = env[name]
    reader = _Reader(raw, problems)

    data_dir = Path(reader.text("FEDI_DATA_DIR", "./var")).expanduser()
    port = reader.integer("FEDI_PORT", 8000, low=1, high=65535)
    host = reader.text("FEDI_HOST", "127.0.0.1")
    tls_cert = reader.path("FEDI_TLS_CERT", must_exist=True)
    tls_key = reader.path("FEDI_TLS_KEY", must_exist=True)
    if (tls_cert is None) != (tls_key is None) and "FEDI_TLS_CERT" not in _names(problems):
        problems.append("FEDI_TLS_CERT and FEDI_TLS_KEY: set both to serve TLS, or neither")
    default_scheme = "https" if tls_cert else "http"
    default_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host  # noqa: S104
    default_base = f"{default_scheme}://{default_host}:{port}"
    base_url = reader.base_url("FEDI_BASE_URL", default_base)
    country = reader.country("FEDI_COUNTRY", "PL")
    database_url = reader.database_url(
        "FEDI_DATABASE_URL", f"sqlite:///{(data_dir / 'fedi.sqlite3').as_posix()}"
    )
    settings_kwargs = {
        "base_url": base_url,
        "instance_name": reader.text("FEDI_INSTANCE_NAME", "Transnationality"),
        "country": country,
        "database_url": database_url,
        "data_dir": data_dir,
        "host": host,
        "port": port,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "private_networks": reader.private_networks("FEDI_ALLOW_PRIVATE_ADDRESSES"),
        "ca_bundle": reader.path("FEDI_CA_BUNDLE", must_exist=True),
        "http_proxy": reader.proxy("FEDI_HTTP_PROXY"),
        "network_handle": reader.handle("FEDI_NETWORK_HANDLE", "network"),
        "authorized_fetch": reader.boolean("FEDI_AUTHORIZED_FETCH", False),
        "delivery_concurrency_per_host": reader.integer(
            "FEDI_DELIVERY_CONCURRENCY_PER_HOST", 4, low=1, high=256
        ),
        "reply_fetch_limit": reader.integer("FEDI_REPLY_FETCH_LIMIT", 10, low=0, high=100),
        "reply_fetch_deadline": reader.integer("FEDI_REPLY_FETCH_DEADLINE", 30, low=1, high=600),
        "thread_fetch_limit": reader.integer("FEDI_THREAD_FETCH_LIMIT", 40, low=0, high=500),
        "thread_fetch_deadline": reader.integer("FEDI_THREAD_FETCH_DEADLINE", 60, low=1, high=600),
        "peer_sync_interval": reader.integer(
            "FEDI_PEER_SYNC_INTERVAL", 3600, low=10, high=7 * 24 * 3600
        ),
        "live_search_deadline": reader.integer("FEDI_LIVE_SEARCH_DEADLINE", 3, low=1, high=60),
        "log_level": reader.choice("FEDI_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        "language": reader.choice("FEDI_LANGUAGE", "en", LOCALES, upper=False),
        "trusted_proxies": reader.networks("FEDI_TRUSTED_PROXIES"),
        "receive_timeout": reader.integer("FEDI_RECEIVE_TIMEOUT", 30, low=1, high=3600),
        "max_connections": reader.integer("FEDI_MAX_CONNECTIONS", 1000, low=1, high=100_000),
        # E-mail for notifications.
        "smtp_url": reader.smtp_url("FEDI_SMTP_URL"),
        "smtp_from": reader.text("FEDI_SMTP_FROM", f"noreply@{urlsplit(base_url).hostname}"),
        "media_max_bytes": reader.integer(
            "FEDI_MEDIA_MAX_BYTES", 10 * 1024 * 1024, low=1024, high=100 * 1024 * 1024
        ),
    }
    _check_certificates(settings_kwargs, problems)
    secret = raw.get("FEDI_SECRET_KEY")
    if secret is not None and len(secret) < 32:
        problems.append("FEDI_SECRET_KEY: must be at least 32 characters")
    if problems:
        raise SettingsError(problems)
    if secret is None:
        try:
            secret = _stored_secret(data_dir, create=create_secret)
        except OSError as exc:
            raise SettingsError(
                [f"FEDI_DATA_DIR: cannot keep the secret key in {data_dir} ({exc.strerror})"]
            ) from exc
    return Settings(secret_key=secret, **settings_kwargs)  # type: ignore[arg-type]


def _check_certificates(values: Mapping[str, object], problems: list[str]) -> None:
    """Load the CA bundle and the TLS pair now, so that a file that exists but is not usable
    PEM is reported at start rather than failing the first request or the listener."""
    bundle, cert, key = values["ca_bundle"], values["tls_cert"], values["tls_key"]
    if isinstance(bundle, Path):
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(bundle))
        except (ssl.SSLError, OSError, ValueError) as exc:
            problems.append(f"FEDI_CA_BUNDLE: {bundle} is not a usable PEM bundle ({exc})")
    if isinstance(cert, Path) and isinstance(key, Path):
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key))
        except (ssl.SSLError, OSError, ValueError) as exc:
            problems.append(f"FEDI_TLS_CERT/FEDI_TLS_KEY: not a matching PEM pair ({exc})")


def _names(problems: list[str]) -> set[str]:
    return {p.split(":", 1)[0] for p in problems}


def _read_toml(path: Path, problems: list[str]) -> dict[str, str]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"--config {path}: cannot read ({exc.strerror})")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"--config {path}: not valid TOML ({exc})")
        return {}
    values: dict[str, str] = {}
    known = {name.removeprefix("FEDI_").lower(): name for name in _VARIABLES}
    for key, value in document.items():
        name = known.get(key.lower())
        if name is None:
            problems.append(f"--config {path}: unknown setting {key!r}")
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, (str, int)):
            values[name] = str(value)
        else:
            problems.append(f"--config {path}: {key} must be a string, number or boolean")
    return values


def _stored_secret(data_dir: Path, *, create: bool) -> str:
    """The secret key kept in ``data_dir`` (0600, in a 0700 directory; see :mod:`fedi.files`);
    a new one, stored there when ``create``."""
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        private_directory(data_dir)
        private_file(path)
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    if create:
        private_directory(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
    return secret


class _Reader:
    """Typed accessors that record a problem line instead of raising."""

    def __init__(self, raw: Mapping[str, str], problems: list[str]) -> None:
        self._raw = raw
        self._problems = problems

    def _bad(self, name: str, message: str) -> None:
        value = self._raw[name]
        shown = "********" if name == "FEDI_SECRET_KEY" else mask_url_password(value)
        self._problems.append(f"{name}: {message} (got {shown!r})")

    def text(self, name: str, default: str) -> str:
        return self._raw.get(name, default).strip() or default

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        if name not in self._raw:
            return default
        try:
            value = int(self._raw[name])
        except ValueError:
            self._bad(name, "must be a whole number")
            return default
        if not low <= value <= high:
            self._bad(name, f"must be between {low} and {high}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self._raw:
            return default
        value = self._raw[name].strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        self._bad(name, "must be one of true/false, yes/no, on/off, 1/0")
        return default

    def private_networks(self, name: str) -> tuple[IPNetwork, ...]:
        """Off (the default), on (loopback only) or a comma-separated list of networks."""
        value = self._raw.get(name, "").strip().lower()
        if value in ("", "0", "false", "no", "off"):
            return ()
        if value in ("1", "true", "yes", "on"):
            return LOOPBACK_NETWORKS
        return self.networks(name, strict=True)

    def proxy(self, name: str) -> str | None:
        """An ``http://host:port`` URL, nothing more (no path, user or query)."""
        value = self._raw.get(name, "").strip()
        if not value:
            return None
        parts: SplitResult | None = urlsplit(value)
        try:
            _ = parts.port if parts is not None else None  # a bad port raises
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme != "http"
            or not parts.hostname
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            self._bad(name, "must be an http://host:port URL")
            return None
        return f"http://{parts.netloc}"

    def choice(
        self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = True
    ) -> str:
        raw = self._raw.get(name, default).strip()
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            self._bad(name, f"must be one of {', '.join(choices)}")
            return default
        return value

    def path(self, name: str, *, must_exist: bool) -> Path | None:
        if name not in self._raw:
            return None
        path = Path(self._raw[name]).expanduser()
        if must_exist and not path.is_file():
            self._bad(name, "no such file")
            return None
        return path

    def base_url(self, name: str, default: str) -> str:
        value = self._raw.get(name, default).strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._bad(name, "must be an absolute http(s) URL such as https://esf.example.pl")
            return default
        if parts.path or parts.query or parts.fragment or parts.username or parts.password:
            self._bad(name, "must be scheme and host only, without path, query or login")
            return default
        try:
            port = parts.port
        except ValueError:
            self._bad(name, "has an invalid port")
            return default
        host = parts.hostname.lower().rstrip(".")
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address keeps its brackets in a URL
        netloc = (
            host
            if port is None or port == {"http": 80, "https": 443}[parts.scheme]
            else (f"{host}:{port}")
        )
        return f"{parts.scheme}://{netloc}"

    def country(self, name: str, default: str) -> str:
        value = normalise_country(self._raw.get(name, default))
        if value not in country_codes():
            self._bad(
                name, "must be an ISO 3166-1 alpha-2 code of a participating country, e.g. PL"
            )
            return default
        return value

    def handle(self, name: str, default: str) -> str:
        value = self._raw.get(name, default)
        if not value.isascii() or not value.replace("_", "").isalnum() or len(value) > 64:
            self._bad(name, "must be 1-64 ASCII letters, digits or underscores")
            return default
        if value.lower() in RESERVED_USERNAMES:
            self._bad(name, "is a reserved name; choose another, e.g. network")
            return default
        return value.lower()

    def networks(self, name: str, *, strict: bool = False) -> tuple[IPNetwork, ...]:
        """A comma-separated list of addresses or networks (``127.0.0.1,10.0.0.0/8,::1``).
        ``strict`` refuses empty items and networks with host bits set (``10.0.0.1/8``)."""
        networks = []
        for item in self._raw.get(name, "").split(","):
            if not item.strip() and not strict:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=strict))
            except ValueError:
                self._bad(name, "must be IP addresses or networks separated by commas")
                return ()
        return tuple(networks)

    def database_url(self, name: str, default: str) -> str:
        value = self._raw.get(name, default).strip()
        scheme = value.split("://", 1)[0].split("+", 1)[0]
        if "://" not in value or scheme not in ("sqlite", "postgresql", "postgres"):
            self._bad(name, "must be a sqlite:/// or postgresql:// URL")
            return default
        return value

    def smtp_url(self, name: str) -> str | None:
        """``smtp://[user:pass@]host[:port]`` (STARTTLS when offered) or ``smtps://`` (TLS)."""
        if name not in self._raw:
            return None
        value = self._raw[name].strip()
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            self._bad(name, "has an invalid port")
            return None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            self._bad(name, "must be an smtp:// or smtps:// URL such as smtp://user:pass@host:587")
            return None
        return value
