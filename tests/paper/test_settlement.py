"""Settlement rules as data: each venue's payoff per scenario, exact payouts."""

from __future__ import annotations

import pytest
from paper_support import d

from arbees.errors import ConfigError
from arbees.money import ONE
from arbees.settlement import (
    DEFAULT_RULES,
    Contract,
    Payoff,
    Ruling,
    VenueRules,
    contract_payout,
    parse_rules,
    rules_for,
)

HOME = Contract.of("kalshi", "KXEPLGAME-26SEP12ARSCHE-ARS", "yes", "home")
HOME_NO = Contract.of("kalshi", "KXEPLGAME-26SEP12ARSCHE-ARS", "no", "home")


def test_every_venue_has_rules_with_a_source() -> None:
    assert set(DEFAULT_RULES) == {"kalshi", "polymarket", "polymarket-us"}
    for venue, rules in DEFAULT_RULES.items():
        assert rules.venue == venue
        assert rules.source
        assert rules.payoff("result") is Payoff.RESULT
    assert DEFAULT_RULES["kalshi"].postponed is Payoff.LAST_PRICE
    assert DEFAULT_RULES["polymarket"].postponed is Payoff.OPEN_UNTIL_PLAYED
    assert DEFAULT_RULES["polymarket"].cancelled is Payoff.FIFTY_FIFTY
    assert not DEFAULT_RULES["polymarket-us"].confirmed  # our reading, said so


def test_unknown_venue_or_scenario_is_an_error_never_a_guess() -> None:
    with pytest.raises(ConfigError, match="betfair"):
        rules_for(DEFAULT_RULES, "betfair")
    with pytest.raises(ConfigError, match="abandoned"):
        DEFAULT_RULES["kalshi"].payoff("abandoned")
    with pytest.raises(ConfigError):
        Ruling("abandoned")
    with pytest.raises(ConfigError):
        Ruling("result")  # a result names its winner
    with pytest.raises(ConfigError):
        Ruling("postponed", prices={("kalshi", "X"): ONE + 1})


def test_result_pays_yes_on_its_outcome_and_no_on_any_other() -> None:
    size = 7 * ONE
    assert contract_payout(HOME, size, Payoff.RESULT, winner="home") == size
    assert contract_payout(HOME, size, Payoff.RESULT, winner="draw") == 0
    assert contract_payout(HOME_NO, size, Payoff.RESULT, winner="draw") == size
    assert contract_payout(HOME_NO, size, Payoff.RESULT, winner="home") == 0


def test_scalar_pays_the_last_traded_price_exactly() -> None:
    # Issue 20: Kalshi's postponed soccer game settled home 0.29 / draw 0.43 / away 0.28.
    size = 3 * ONE + 1  # an odd micro-size: the fraction of a micro-dollar is rounded down
    assert contract_payout(HOME, size, Payoff.LAST_PRICE, last_price=d("0.29")) == d("0.87")
    assert contract_payout(HOME_NO, size, Payoff.LAST_PRICE, last_price=d("0.29")) == d("2.13")
    with pytest.raises(ConfigError, match="no last price"):
        contract_payout(HOME, size, Payoff.LAST_PRICE)


def test_fifty_fifty_pays_half_on_both_sides_and_open_pays_nothing_yet() -> None:
    assert contract_payout(HOME, 9 * ONE, Payoff.FIFTY_FIFTY) == d("4.5")
    assert contract_payout(HOME_NO, 9 * ONE, Payoff.FIFTY_FIFTY) == d("4.5")
    assert contract_payout(HOME, 9 * ONE, Payoff.OPEN_UNTIL_PLAYED) is None


def test_a_rule_is_data_a_user_can_override() -> None:
    lfmp = VenueRules("polymarket", Payoff.OPEN_UNTIL_PLAYED, Payoff.LAST_PRICE, "market rules")
    rules = {**DEFAULT_RULES, "polymarket": lfmp}
    assert rules_for(rules, "polymarket").payoff("cancelled") is Payoff.LAST_PRICE


def test_parse_rules_overrides_a_venue_or_adds_one_and_refuses_nonsense() -> None:
    rules = parse_rules(" polymarket : cancelled = last_price ; betfair:postponed=result,"
                        "cancelled=fifty_fifty")  # fmt: skip
    assert rules["polymarket"].cancelled is Payoff.LAST_PRICE
    assert rules["polymarket"].postponed is Payoff.OPEN_UNTIL_PLAYED  # kept
    assert rules["betfair"].payoff("cancelled") is Payoff.FIFTY_FIFTY
    assert rules["kalshi"] == DEFAULT_RULES["kalshi"]
    assert parse_rules("") == dict(DEFAULT_RULES)
    for bad in ("kalshi", "kalshi:abandoned=result", "kalshi:postponed=coin",
                "betfair:postponed=result", ":postponed=result"):  # fmt: skip
        with pytest.raises(ConfigError):
            parse_rules(bad)
