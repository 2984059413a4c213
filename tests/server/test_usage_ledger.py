"""The usage ledger and price table (server/host/usage.py): pure logic, no I/O.

The property test plays any interleaving of reservations, settlements, expiries and
unreserved reports against an agent budget and an owner budget, and checks that what
was spent through reservations never goes over either budget.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.host.usage import (
    FREE,
    Budget,
    Ledger,
    OnLimit,
    Price,
    PriceTable,
    Refusal,
    Reservation,
    Scope,
    UsageError,
    make_budget,
    usd,
)

DAY = date(2025, 12, 1)


def ledger(*budgets: Budget, ttl: float = 600.0) -> Ledger:
    led = Ledger(PriceTable(), ttl=ttl)
    led.start_day(DAY)
    for b in budgets:
        led.set_budget(b)
    return led


# ---- prices -------------------------------------------------------------------------


def test_prices_are_micro_dollars_per_token_with_cached_prompt_cheaper() -> None:
    p = Price(prompt=0.15, completion=0.60, cached_prompt=0.075)
    # 1M prompt tokens = $0.15 = 150_000 micro-dollars.
    assert p.cost_micro(1_000_000, 0) == 150_000
    assert p.cost_micro(1_000_000, 0, cached_tokens=1_000_000) == 75_000
    assert p.cost_micro(1000, 100, cached_tokens=400) == 90 + 30 + 60
    assert p.cost_micro(1, 0) == 1  # rounded up: a call never costs nothing by rounding
    assert Price(1.0, 2.0).cost_micro(10, 10, cached_tokens=10) == 30  # no cached price
    assert p.worst_case_micro(1000) == 600  # every token at the dearest price


def test_lookup_exact_then_longest_prefix_then_free() -> None:
    table = PriceTable()
    assert table.price("gpt-4o-mini") == Price(0.15, 0.60, 0.075)
    assert table.price("GPT-4o-mini-2024-07-18") == table.price("gpt-4o-mini")  # not gpt-4o
    assert table.price("gpt-4o-2024-08-06") == table.price("gpt-4o")
    assert table.price("llama-3-local") is FREE and not table.known("llama-3-local")
    assert table.cost_micro("llama-3-local", 10_000, 500) == 0


def test_prices_from_a_file_and_inline_json_override_the_defaults(tmp_path: Path) -> None:
    f = tmp_path / "prices.json"
    f.write_text('{"gpt-4o-mini": {"prompt": 1, "completion": 2}, '
                 '"house-model": {"prompt": 0.5, "completion": 0.5, "cached_prompt": 0.1}}')
    table = PriceTable.from_config(f, '{"house-model": {"prompt": 3, "completion": 4}}')
    assert table.price("gpt-4o-mini") == Price(1.0, 2.0)
    assert table.price("house-model") == Price(3.0, 4.0)
    assert table.price("gpt-4o") == Price(2.50, 10.00, 1.25)  # the defaults stay


@pytest.mark.parametrize(("text", "words"), [
    ("not json", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ('{"m": 3}', "price of 'm' must be a map"),
    ('{"m": {"prompt": 1}}', "'completion' must be a number"),
    ('{"m": {"prompt": -1, "completion": 1}}', "finite number >= 0"),
    ('{"m": {"prompt": 1, "completion": 1, "extra": 1}}', "unknown key(s): extra"),
])
def test_bad_prices_are_refused_with_a_clear_reason(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        PriceTable.parse(text)


def test_a_missing_prices_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prices file"):
        PriceTable.from_config(tmp_path / "nope.json", None)


def test_usd_formatting() -> None:
    assert usd(0) == "$0.00"
    assert usd(1234) == "$0.001234"
    assert usd(12_500_000) == "$12.50"


# ---- budgets --------------------------------------------------------------------------


def test_make_budget_checks_its_values() -> None:
    b = make_budget("owner", "Ann", None, 1.5, "stop")
    assert b == Budget(Scope.OWNER, "ann", None, 1_500_000, OnLimit.STOP)
    assert b.usd_per_day == 1.5
    for args in [("world", "ann", 1, None, "stop"), ("agent", "a", -1, None, "stop"),
                 ("agent", "a", None, -2.0, "stop"), ("agent", "a", 5, None, "explode"),
                 ("agent", "", 5, None, "stop")]:
        with pytest.raises(UsageError) as err:
            make_budget(*args)
        assert err.value.code == "bad_budget"


# ---- the ledger ---------------------------------------------------------------------------


def test_reserve_counts_held_reservations_and_settle_records_the_real_usage() -> None:
    led = ledger(make_budget("agent", "scout", 1000, None))
    a = led.reserve("scout", "ann", "gpt-4o-mini", 600, now=0, day=DAY)
    assert isinstance(a, Reservation)
    b = led.reserve("Scout", "ann", "gpt-4o-mini", 600, now=0, day=DAY)  # 600 + 600 > 1000
    assert isinstance(b, Refusal) and b.on_limit is OnLimit.SCRIPTED
    assert "600 held" in b.message and "agent scout" in b.message
    rec = led.settle(a.id, 300, 50, 100, agent="scout", now=1, day=DAY)
    assert (rec.tokens, rec.micro) == (350, 68)  # 30 + 7.5 + 30 micro-dollars, rounded up
    assert led.spent_today(Scope.AGENT, "scout").tokens == 350
    assert led.spent_today(Scope.OWNER, "ann").tokens == 350
    assert led.held_now(Scope.AGENT, "scout").tokens == 0
    assert isinstance(led.reserve("scout", "ann", "gpt-4o-mini", 650, now=2, day=DAY),
                      Reservation)
    assert isinstance(led.reserve("scout", "ann", "gpt-4o-mini", 1, now=2, day=DAY), Refusal)


def test_the_owner_budget_covers_all_their_agents_and_money_counts_too() -> None:
    led = ledger(make_budget("owner", "ann", None, 0.001, "stop"))  # 1000 micro-dollars
    # gpt-4o's dearest token is $10/1M = 10 micro-dollars: 100 tokens may cost 1000.
    a = led.reserve("scout", "ann", "gpt-4o", 100, now=0, day=DAY)
    assert isinstance(a, Reservation) and a.micro == 1000
    other = led.reserve("ranger", "ann", "gpt-4o", 1, now=0, day=DAY)
    assert isinstance(other, Refusal) and other.on_limit is OnLimit.STOP
    assert "owner ann" in other.message
    assert isinstance(led.reserve("bob_bot", "bob", "gpt-4o", 100, now=0, day=DAY),
                      Reservation)  # someone else's agent is not limited by Ann's budget
    # An unknown model costs nothing: only token budgets limit it.
    assert isinstance(led.reserve("ranger", "ann", "local-llama", 10**6, now=0, day=DAY),
                      Reservation)


def test_settle_refuses_unknown_twice_settled_expired_and_foreign_reservations() -> None:
    led = ledger(make_budget("agent", "scout", 1000, None), ttl=10)
    r = led.reserve("scout", "ann", "m", 500, now=0, day=DAY)
    assert isinstance(r, Reservation)
    with pytest.raises(UsageError) as err:
        led.settle(r.id, 1, 1, agent="ranger", now=1, day=DAY)
    assert err.value.code == "unknown_reservation"
    led.settle(r.id, 1, 1, agent="scout", now=1, day=DAY)
    with pytest.raises(UsageError):
        led.settle(r.id, 1, 1, agent="scout", now=1, day=DAY)
    r2 = led.reserve("scout", "ann", "m", 900, now=2, day=DAY)
    assert isinstance(r2, Reservation)
    assert isinstance(led.reserve("scout", "ann", "m", 900, now=11, day=DAY), Refusal)
    # Ten seconds on, the crashed client's reservation no longer holds the budget.
    assert isinstance(led.reserve("scout", "ann", "m", 900, now=12, day=DAY), Reservation)
    with pytest.raises(UsageError):
        led.settle(r2.id, 1, 1, agent="scout", now=13, day=DAY)


def test_bad_counts_are_refused() -> None:
    led = ledger()
    for bad in (-1, True, 1.5, "7"):
        with pytest.raises(UsageError) as err:
            led.report("scout", "ann", "m", bad, 0, day=DAY)  # type: ignore[arg-type]
        assert err.value.code == "bad_field"
    with pytest.raises(UsageError, match="cached_tokens"):
        led.report("scout", "ann", "m", 10, 0, 11, day=DAY)
    with pytest.raises(UsageError):
        led.reserve("scout", "ann", "m", -5, now=0, day=DAY)


def test_a_new_utc_day_starts_from_zero_and_reports_count_over_budget() -> None:
    led = ledger(make_budget("agent", "scout", 100, None))
    led.report("scout", "ann", "m", 150, 0, day=DAY)  # unreserved: recorded anyway
    assert led.spent_today(Scope.AGENT, "scout").tokens == 150
    assert isinstance(led.reserve("scout", "ann", "m", 1, now=0, day=DAY), Refusal)
    tomorrow = DAY + timedelta(days=1)
    assert isinstance(led.reserve("scout", "ann", "m", 100, now=0, day=tomorrow), Reservation)
    assert led.day == tomorrow and led.spent_today(Scope.AGENT, "scout").tokens == 0


def test_seeding_from_the_database_counts_what_was_spent_today() -> None:
    led = Ledger(PriceTable())
    led.start_day(DAY, [("scout", "ann", 800, 10), ("ranger", "ann", 150, 5)])
    led.set_budget(make_budget("owner", "ann", 1000, None))
    assert led.spent_today(Scope.OWNER, "ann").tokens == 950
    assert isinstance(led.reserve("scout", "ann", "m", 51, now=0, day=DAY), Refusal)
    assert isinstance(led.reserve("scout", "ann", "m", 50, now=0, day=DAY), Reservation)


def test_release_agent_frees_its_reservations() -> None:
    led = ledger(make_budget("owner", "ann", 100, None))
    assert isinstance(led.reserve("scout", "ann", "m", 100, now=0, day=DAY), Reservation)
    assert led.release_agent("Scout") == 1
    assert led.held_now(Scope.OWNER, "ann").tokens == 0


# ---- the property: no interleaving overshoots ---------------------------------------------

AGENTS = [("scout", "ann"), ("ranger", "ann"), ("bobbot", "bob")]

op = st.one_of(
    st.tuples(st.just("reserve"), st.integers(0, 2), st.integers(0, 400),
              st.sampled_from(["gpt-4o-mini", "gpt-4o", "free-model"])),
    st.tuples(st.just("settle"), st.integers(0, 50), st.floats(0, 1), st.floats(0, 1)),
    st.tuples(st.just("tick"), st.floats(0, 400)),
    st.tuples(st.just("report"), st.integers(0, 2), st.integers(0, 50)),
)


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(op, max_size=80), agent_tokens=st.integers(0, 1500),
       owner_tokens=st.integers(0, 2500), owner_micro=st.integers(0, 3000))
def test_no_interleaving_of_reserve_and_settle_overshoots_a_budget(
        ops: list[tuple[object, ...]], agent_tokens: int, owner_tokens: int,
        owner_micro: int) -> None:
    led = Ledger(PriceTable(), ttl=300)
    led.start_day(DAY)
    budgets = [Budget(Scope.AGENT, "scout", agent_tokens, None),
               Budget(Scope.OWNER, "ann", owner_tokens, owner_micro)]
    for b in budgets:
        led.set_budget(b)
    now = 0.0
    live: list[Reservation] = []
    reported = {"scout": 0, "ann": 0}  # unreserved usage (allowed to go over)
    reported_micro = 0
    for o in ops:
        if o[0] == "reserve":
            _, who, tokens, model = o
            agent, owner = AGENTS[int(who)]  # type: ignore[call-overload]
            got = led.reserve(agent, owner, str(model), int(tokens), now, DAY)  # type: ignore[call-overload]
            if isinstance(got, Reservation):
                live.append(got)
        elif o[0] == "settle" and live:
            _, pick, f_prompt, f_done = o
            res = live.pop(int(pick) % len(live))  # type: ignore[call-overload]
            if res.expires <= now:
                continue  # expired: the server would refuse the settle
            # Real usage within the reservation: split its tokens between prompt and
            # completion in any way.
            used = int(res.tokens * float(f_done))  # type: ignore[arg-type]
            prompt = int(used * float(f_prompt))  # type: ignore[arg-type]
            led.settle(res.id, prompt, used - prompt, prompt // 2, agent=res.agent, now=now,
                       day=DAY)
        elif o[0] == "tick":
            now += float(o[1])  # type: ignore[arg-type]
            live = [r for r in live if r.expires > now]
            led.expire(now)
        elif o[0] == "report":
            _, who, tokens = o
            agent, owner = AGENTS[int(who)]  # type: ignore[call-overload]
            rec = led.report(agent, owner, "gpt-4o", int(tokens), 0, day=DAY)  # type: ignore[call-overload]
            if agent == "scout":
                reported["scout"] += rec.tokens
            if owner == "ann":
                reported["ann"] += rec.tokens
                reported_micro += rec.micro
        scout = led.spent_today(Scope.AGENT, "scout")
        ann = led.spent_today(Scope.OWNER, "ann")
        # What went through reservations stays within each budget, whatever the order;
        # unreserved reports may push a total over, but only by what they reported.
        held_scout = led.held_now(Scope.AGENT, "scout")
        held_ann = led.held_now(Scope.OWNER, "ann")
        assert scout.tokens + held_scout.tokens <= agent_tokens + reported["scout"]
        assert ann.tokens + held_ann.tokens <= owner_tokens + reported["ann"]
        assert ann.micro + held_ann.micro <= owner_micro + reported_micro


# ---- the wire message ------------------------------------------------------------------


def test_usage_messages_parse_and_bad_fields_get_clear_codes() -> None:
    from server import wire

    got = wire.parse_message({"type": "usage", "op": "reserve", "model": "gpt-4o",
                              "max_tokens": 900, "id": 3})
    assert got == wire.Usage("reserve", "gpt-4o", max_tokens=900, id=3)
    got = wire.parse_message({"type": "usage", "op": "settle", "reservation": "abc",
                              "prompt_tokens": 10, "completion_tokens": 2})
    assert got == wire.Usage("settle", None, reservation="abc", prompt_tokens=10,
                             completion_tokens=2)
    got = wire.parse_message({"type": "usage", "op": "report", "model": "m",
                              "prompt_tokens": 10, "completion_tokens": 2, "cached_tokens": 4})
    assert isinstance(got, wire.Usage) and got.cached_tokens == 4 and got.reservation is None
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"op": "spend"}, "bad_field", "'op' must be one of reserve, settle, report"),
        ({"op": "reserve", "max_tokens": 5}, "missing_field", "'model' is required"),
        ({"op": "reserve", "model": ""}, "bad_field", "'model' must be 1 to 200"),
        ({"op": "reserve", "model": "m", "max_tokens": 1.5}, "bad_field", "whole number"),
        ({"op": "reserve", "model": "m", "max_tokens": True}, "bad_field", "whole number"),
        ({"op": "reserve", "model": "m", "max_tokens": 10**12}, "bad_field", "whole number"),
        ({"op": "settle", "prompt_tokens": 1, "completion_tokens": 1}, "missing_field",
         "'reservation' is required"),
        ({"op": "report", "model": "m", "completion_tokens": 1}, "missing_field",
         "'prompt_tokens' is required"),
        ({"op": "report", "model": "m", "prompt_tokens": 1, "completion_tokens": 1,
          "cached_tokens": 5}, "bad_field", "cannot be more than"),
    ]
    for msg, code, words in cases:
        with pytest.raises(wire.WireError) as err:
            wire.parse_message({"type": "usage", "id": "x", **msg})
        assert (err.value.code, err.value.id) == (code, "x"), msg
        assert words in err.value.message
