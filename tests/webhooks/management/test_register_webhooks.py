"""`manage.py register_webhooks` against the simulator."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.factories import ShopFactory
from webhooks.topics import SUBSCRIBED_TOPICS


def test_it_registers_every_topic_for_the_shop(simulator, db, capsys):
    # given
    simulator.control.create_shop(
        "command.myshopify.com", token="shpat_command", orders=1, customers=1, products=1
    )
    ShopFactory(domain="command.myshopify.com", api_base_url=simulator.base_url, access_token="shpat_command")
    # when
    call_command(
        "register_webhooks",
        "--shop",
        "command.myshopify.com",
        "--callback-url",
        "https://app.example/webhooks/shopify/",
    )
    # then
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(SUBSCRIBED_TOPICS.values())
    assert {line.split()[1] for line in lines} == {"created"}
    subscriptions = simulator.control.subscriptions(shop="command.myshopify.com")
    assert {s["uri"] for s in subscriptions} == {"https://app.example/webhooks/shopify/"}


def test_it_refuses_an_unknown_shop(db):
    # when / then
    with pytest.raises(CommandError, match="no shop"):
        call_command("register_webhooks", "--shop", "nobody.myshopify.com")
