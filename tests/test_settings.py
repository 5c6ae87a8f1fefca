from __future__ import annotations

from pathlib import Path

import pytest

from fedi.instance import fetch_policy
from fedi.settings import SettingsError, load_settings
from fedi.testing.tls import make_test_ca


def test_defaults_use_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/fedi.sqlite3"
    assert settings.base_url == "http://localhost:8000"
    assert settings.domain == "localhost:8000"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.allow_private_addresses is False
    assert settings.network_handle == "network"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    second = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_values_are_read_and_normalised(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(tmp_path),
            "FEDI_BASE_URL": "HTTPS://ESF.Example.PL:443/",
            "FEDI_COUNTRY": "el",
            "FEDI_PORT": "9000",
            "FEDI_ALLOW_PRIVATE_ADDRESSES": "yes",
            "FEDI_SECRET_KEY": "x" * 40,
        }
    )
    assert settings.base_url == "https://esf.example.pl"
    assert settings.country == "GR"
    assert settings.port == 9000
    assert settings.allow_private_addresses is True
    assert settings.secret_key == "x" * 40


def test_every_bad_value_is_reported_on_its_own_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "FEDI_DATA_DIR": str(tmp_path),
                "FEDI_BASE_URL": "ftp://esf.example.pl/path",
                "FEDI_COUNTRY": "XX",
                "FEDI_PORT": "seventy",
                "FEDI_ALLOW_PRIVATE_ADDRESSES": "maybe",
                "FEDI_DATABASE_URL": "mysql://x",
                "FEDI_TLS_CERT": str(tmp_path / "missing.pem"),
                "FEDI_SECRET_KEY": "short",
            }
        )
    names = [problem.split(":")[0] for problem in caught.value.problems]
    assert sorted(names) == sorted(
        [
            "FEDI_BASE_URL",
            "FEDI_COUNTRY",
            "FEDI_PORT",
            "FEDI_ALLOW_PRIVATE_ADDRESSES",
            "FEDI_DATABASE_URL",
            "FEDI_TLS_CERT",
            "FEDI_SECRET_KEY",
        ]
    )
    assert not (tmp_path / "secret_key").exists()


def test_tls_needs_both_certificate_and_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(SettingsError, match="set both"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_TLS_CERT": str(cert)})


def test_toml_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "fedi.toml"
    config.write_text(
        'instance_name = "Sieć ESF"\ncountry = "IT"\nport = 8100\nauthorized_fetch = true\n',
        encoding="utf-8",
    )
    settings = load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_COUNTRY": "DE"}, config)
    assert settings.instance_name == "Sieć ESF"
    assert settings.country == "DE"
    assert settings.port == 8100
    assert settings.authorized_fetch is True


def test_toml_errors_are_clear(tmp_path: Path) -> None:
    config = tmp_path / "fedi.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path)}, config)
    config.write_text("this is not toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path)}, config)


def test_masked_hides_secrets_and_database_password(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(tmp_path),
            "FEDI_SECRET_KEY": "s" * 40,
            "FEDI_DATABASE_URL": "postgresql://fedi:hunter2secret@db.example/fedi",
        }
    )
    shown = "\n".join(f"{k}={v}" for k, v in settings.masked().items())
    assert "hunter2secret" not in shown
    assert "s" * 40 not in shown
    assert "postgresql://fedi:********@db.example/fedi" in shown


def test_a_bad_database_url_is_reported_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "FEDI_DATA_DIR": str(tmp_path),
                "FEDI_DATABASE_URL": "postgressql://fedi:hunter2@db/fedi",
            }
        )
    assert "hunter2" not in str(caught.value)
    assert "FEDI_DATABASE_URL" in str(caught.value)


def test_a_password_parameter_is_masked(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(tmp_path),
            "FEDI_DATABASE_URL": "postgresql://db.example/fedi?user=fedi&password=hunter2",
        }
    )
    assert "hunter2" not in settings.masked()["FEDI_DATABASE_URL"]


def test_masking_leaves_a_url_without_password_as_it_is(tmp_path: Path) -> None:
    settings = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    assert settings.masked()["FEDI_DATABASE_URL"] == settings.database_url
    assert settings.database_url.startswith("sqlite:///")


def test_certificate_files_must_be_usable_pem(tmp_path: Path) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("this is no certificate\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "FEDI_DATA_DIR": str(tmp_path),
                "FEDI_CA_BUNDLE": str(not_pem),
                "FEDI_TLS_CERT": str(not_pem),
                "FEDI_TLS_KEY": str(not_pem),
            }
        )
    names = [problem.split(":")[0] for problem in caught.value.problems]
    assert names == ["FEDI_CA_BUNDLE", "FEDI_TLS_CERT/FEDI_TLS_KEY"]


def test_a_test_ca_and_its_certificate_are_accepted(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "ca")
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(tmp_path),
            "FEDI_CA_BUNDLE": str(ca.ca_cert_path),
            "FEDI_TLS_CERT": str(ca.cert_path),
            "FEDI_TLS_KEY": str(ca.key_path),
        }
    )
    assert settings.base_url.startswith("https://")


def test_the_network_handle_cannot_be_a_reserved_name(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FEDI_NETWORK_HANDLE: is a reserved name"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_NETWORK_HANDLE": "admin"})


def test_an_ipv6_base_url_keeps_its_brackets(tmp_path: Path) -> None:
    settings = load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_BASE_URL": "http://[::1]:8000"})
    assert settings.base_url == "http://[::1]:8000"
    assert settings.domain == "[::1]:8000"


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        ("off", ()),
        ("no", ()),
        ("on", ("127.0.0.0/8", "::1/128")),
        ("1", ("127.0.0.0/8", "::1/128")),
        ("TRUE", ("127.0.0.0/8", "::1/128")),
        ("127.0.0.0/8, 10.0.0.0/8", ("127.0.0.0/8", "10.0.0.0/8")),
        ("fd00::/8", ("fd00::/8",)),
    ],
)
def test_allowed_private_networks(tmp_path: Path, value: str, networks: tuple[str, ...]) -> None:
    settings = load_settings(
        {"FEDI_DATA_DIR": str(tmp_path), "FEDI_ALLOW_PRIVATE_ADDRESSES": value}
    )
    assert tuple(map(str, settings.private_networks)) == networks
    assert settings.allow_private_addresses is bool(networks)
    assert fetch_policy(settings).private_networks == settings.private_networks
    assert fetch_policy(settings).allow_http is bool(networks)


@pytest.mark.parametrize("value", ["maybe", "10.0.0.1/8", "10.0.0.0/8,", "localhost"])
def test_bad_private_networks_are_reported(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_ALLOW_PRIVATE_ADDRESSES": value})
    assert [p.split(":", 1)[0] for p in caught.value.problems] == ["FEDI_ALLOW_PRIVATE_ADDRESSES"]


def test_http_proxy_setting(tmp_path: Path) -> None:
    unset = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    assert unset.http_proxy is None and fetch_policy(unset).proxy is None
    settings = load_settings(
        {"FEDI_DATA_DIR": str(tmp_path), "FEDI_HTTP_PROXY": " http://Proxy.internal:3128/ "}
    )
    assert settings.http_proxy == "http://Proxy.internal:3128"
    assert fetch_policy(settings).proxy == "http://Proxy.internal:3128"
    assert settings.masked()["FEDI_HTTP_PROXY"] == "http://Proxy.internal:3128"


@pytest.mark.parametrize(
    "value",
    [
        "https://proxy.internal:3128",
        "socks5://proxy.internal:1080",
        "http://user:pw@proxy.internal:3128",
        "http://proxy.internal:3128/path",
        "http://proxy.internal:99999",
        "proxy.internal:3128",
    ],
)
def test_bad_http_proxy_is_reported(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_HTTP_PROXY": value})
    assert [p.split(":", 1)[0] for p in caught.value.problems] == ["FEDI_HTTP_PROXY"]


def test_ca_bundle_reaches_the_fetch_policy(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "ca")
    settings = load_settings(
        {"FEDI_DATA_DIR": str(tmp_path), "FEDI_CA_BUNDLE": str(ca.ca_cert_path)}
    )
    assert fetch_policy(settings).ca_bundle == ca.ca_cert_path


def test_smtp_is_off_by_default_and_its_password_is_masked(tmp_path: Path) -> None:
    plain = load_settings({"FEDI_DATA_DIR": str(tmp_path)})
    assert plain.smtp_url is None and plain.smtp_from == "noreply@localhost"
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(tmp_path),
            "FEDI_SMTP_URL": "smtps://mailer:hunter2@mail.example.org:465",
            "FEDI_SMTP_FROM": "esf@example.org",
        }
    )
    assert settings.smtp_url == "smtps://mailer:hunter2@mail.example.org:465"
    assert settings.smtp_from == "esf@example.org"
    assert "hunter2" not in settings.masked()["FEDI_SMTP_URL"]
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:99999"])
def test_a_bad_smtp_url_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="FEDI_SMTP_URL"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_SMTP_URL": url})


def test_the_upload_limit_is_a_setting(tmp_path: Path) -> None:
    assert load_settings({"FEDI_DATA_DIR": str(tmp_path)}).media_max_bytes == 10 * 1024 * 1024
    settings = load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_MEDIA_MAX_BYTES": "2048"})
    assert settings.media_max_bytes == 2048
    assert settings.masked()["FEDI_MEDIA_MAX_BYTES"] == "2048"
    with pytest.raises(SettingsError, match="FEDI_MEDIA_MAX_BYTES"):
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_MEDIA_MAX_BYTES": "10"})
