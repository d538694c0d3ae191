"""The webhook settings: TOML, ``PAVILION_WEBHOOKS`` as JSON, and one-line refusals that never
show a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load

SECRET = {"PAVILION_SECRET": "s" * 32}
HOOK_SECRET = "whsec-0123456789abcdef"


def test_targets_from_toml_and_delivery_tunables(tmp_path: Path) -> None:
    path = tmp_path / "pavilion.toml"
    path.write_text(f'webhooks = [{{url = "https://crm.example/hook", secret = "{HOOK_SECRET}", '
                    'events = ["quote_requested"]}]\n'
                    '[webhooks_delivery]\ngive_up_s = 3600\n', encoding="utf-8")
    settings = load(file=path, env=SECRET)
    [target] = settings.webhooks
    assert (target.url, target.events) == ("https://crm.example/hook", ["quote_requested"])
    assert target.secret.get_secret_value() == HOOK_SECRET
    assert HOOK_SECRET not in repr(settings)
    assert settings.webhooks_delivery.give_up_s == 3600
    assert settings.webhooks_delivery.backoff_s == 1.0  # the defaults: 1 s doubling to 10 min
    assert settings.webhooks_delivery.backoff_max_s == 600.0
    assert settings.webhooks_delivery.timeout_s == 10.0


def test_targets_from_env_json() -> None:
    settings = load(env={**SECRET, "PAVILION_WEBHOOKS":
                         f'[{{"url": "http://127.0.0.1:9/h", "secret": "{HOOK_SECRET}"}}]',
                         "PAVILION_WEBHOOKS_DELIVERY__CONCURRENCY": "2"})
    assert [t.url for t in settings.webhooks] == ["http://127.0.0.1:9/h"]
    assert settings.webhooks[0].events is None
    assert settings.webhooks_delivery.concurrency == 2


@pytest.mark.parametrize(("raw", "message"), [
    ("[{", "PAVILION_WEBHOOKS: not valid JSON"),
    (f'[{{"url": "ftp://x.example/h", "secret": "{HOOK_SECRET}"}}]',
     "webhooks.0.url: must start with http:// or https://"),
    ('[{"url": "https://x.example/h", "secret": "short"}]',
     "webhooks.0.secret: must be at least 16 bytes (got ***)"),
    (f'[{{"url": "https://x.example/h", "secret": "{HOOK_SECRET}", "events": ["nope"]}}]',
     "webhooks.0.events: unknown webhook event 'nope'"),
    ('[{"url": "https://x.example/h"}]', "webhooks.0.secret: Field required"),
])
def test_bad_targets_are_one_line(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(env={**SECRET, "PAVILION_WEBHOOKS": raw})
    assert str(caught.value).startswith(message), str(caught.value)
    assert "short" not in str(caught.value)
