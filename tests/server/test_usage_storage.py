"""Usage storage (server/host/usage_storage.py) on real SQLite and PostgreSQL, across a reopen.

Rows add up per (agent, day, model), keep the owner for per-owner queries, survive a
restart (a new repository on the same file), and go with the agent's account. Budgets
are kept per (scope, account) and checked against the kind of account.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg import scratch_database

from server.host.identity_storage import IdentityStore
from server.host.storage import AccountNotFound, SqlRepository
from server.host.usage import Scope, make_budget
from server.host.usage_service import build_report
from server.host.usage_storage import UsageDelta, UsageStore

DAY = date(2025, 12, 1)


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'aegent.db'}"
    else:
        with scratch_database(request.getfixturevalue("postgres_url")) as pg:
            yield pg


@pytest.fixture
def repo(url: str) -> Iterator[SqlRepository]:
    repository = SqlRepository(url)
    repository.migrate()
    repository.create_account("Ann", "h")
    repository.create_account("Bob", "h")
    ids = IdentityStore(repository.engine)
    for name, owner in [("Scout", "ann"), ("Ranger", "ann"), ("Bobbot", "bob")]:
        ids.create_agent(name, owner, key_id=f"k{name}", key_hash="x" * 64, scopes=["*"],
                         config={})
    try:
        yield repository
    finally:
        repository.close()


def delta(agent: str, tokens: int, day: date = DAY, model: str = "gpt-4o-mini",
          micro: int = 10) -> UsageDelta:
    return UsageDelta(agent, day, model, tokens, 0, tokens // 2, 1, micro)


def test_usage_adds_up_per_agent_day_and_model_and_survives_a_reopen(
        repo: SqlRepository, url: str) -> None:
    store = UsageStore(repo.engine)
    assert store.add_usage([delta("scout", 100), delta("Scout", 50), delta("ranger", 7),
                            delta("bobbot", 1000), delta("scout", 5, DAY - timedelta(1)),
                            delta("scout", 3, model="gpt-4o"), delta("ghost", 9)]) == 6
    assert store.add_usage([delta("scout", 10)]) == 1
    repo.close()
    again = SqlRepository(url)
    try:
        again.migrate()
        store = UsageStore(again.engine)
        assert store.count_rows() == 5
        assert sorted(store.day_totals(DAY)) == [("bobbot", "bob", 1000, 10),
                                                 ("ranger", "ann", 7, 10),
                                                 ("scout", "ann", 3, 10),
                                                 ("scout", "ann", 160, 30)]
        mine = store.lines(owner="ann")
        assert {u.agent for u in mine} == {"scout", "ranger"}
        assert [u.day for u in store.lines(agent="scout")][-1] == DAY - timedelta(1)
        assert store.lines(agent="scout", since=DAY, until=DAY)[0].cached_tokens == 80
        assert store.agents_of("Ann") == ["ranger", "scout"]
        assert store.owner_of("scout") == "ann" and store.owner_of("ann") == ""
        with pytest.raises(AccountNotFound):
            store.lines(agent="nobody")
        with again.engine.begin() as conn:  # deleting the agent deletes its usage
            conn.execute(sa.text("DELETE FROM accounts WHERE name = 'ranger'"))
        assert {u.agent for u in store.lines(owner="ann")} == {"scout"}
    finally:
        again.close()


def test_budgets_are_kept_per_scope_and_account(repo: SqlRepository) -> None:
    store = UsageStore(repo.engine)
    store.set_budget(make_budget("agent", "Scout", 5000, None, "stop"))
    store.set_budget(make_budget("owner", "ann", None, 2.0))
    store.set_budget(make_budget("agent", "scout", 6000, 0.5))  # replaces
    assert store.budgets() == [make_budget("agent", "scout", 6000, 0.5),
                               make_budget("owner", "ann", None, 2.0)]
    with pytest.raises(ValueError, match="not an agent"):
        store.set_budget(make_budget("agent", "ann", 1, None))
    with pytest.raises(ValueError, match="is an agent"):
        store.set_budget(make_budget("owner", "scout", 1, None))
    with pytest.raises(AccountNotFound):
        store.set_budget(make_budget("owner", "nobody", 1, None))
    assert store.remove_budget(Scope.OWNER, "ann") is True
    assert store.remove_budget(Scope.OWNER, "ann") is False
    assert [b.account for b in store.budgets()] == ["scout"]


def test_the_report_of_an_owner_sums_their_agents(repo: SqlRepository) -> None:
    store = UsageStore(repo.engine)
    store.add_usage([delta("scout", 100, micro=1000), delta("ranger", 50, micro=500),
                     delta("scout", 40, DAY - timedelta(days=10), micro=400)])
    budgets = {b.key: b for b in [make_budget("owner", "ann", 1000, None),
                                  make_budget("agent", "bobbot", 5, None)]}
    rep = build_report(store, budgets, None, "ann", DAY, 7)
    assert rep.subject == "ann" and rep.scope == "owner"
    scout = next(a for a in rep.agents if a["name"] == "scout")
    assert (scout["today"]["tokens"], scout["recent"]["tokens"], scout["total"]["tokens"]) \
        == (100, 100, 140)
    assert scout["total"]["usd"] == 0.0014
    assert rep.owner_total is not None and rep.owner_total["today"]["tokens"] == 150
    assert rep.budgets == [{"scope": "owner", "account": "ann", "tokens_per_day": 1000,
                            "usd_per_day": None, "on_limit": "scripted",
                            "spent_tokens": 150, "spent_usd": 0.0015}]
    one = build_report(store, budgets, "ranger", None, DAY, 30)
    assert [a["name"] for a in one.agents] == ["ranger"] and one.owner_total is None
    assert one.budgets[0]["spent_tokens"] == 150  # the owner's budget counts every agent
