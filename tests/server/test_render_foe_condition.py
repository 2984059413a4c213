"""Golden texts: each blow says how hurt its target is now, as text (telnet and web alike).

A screen-reader user, or anyone playing without colour, reads the foe's state in the
words after the blow; your own hurts are in the prompt and the vitals, so a blow that
lands on you adds nothing, and neither does a killing blow (`died` follows).
"""

from __future__ import annotations

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


def test_a_hit_tells_how_hurt_the_foe_is() -> None:
    hit = ev.HitLanded("Ann", "a cellar rat", 4, "hit", False, "badly wounded")
    assert plain(hit, "Ann") == "You hit a cellar rat for 4 damage. A cellar rat is badly wounded."
    assert plain(hit, "Bob") == "Ann hits a cellar rat for 4 damage. A cellar rat is badly wounded."
    assert plain(ev.HitLanded("Ann", "a rat", 1, "hit", False, "a few scratches"), "Ann") == \
        "You hit a rat for 1 damage. A rat has a few scratches."
    assert plain(ev.HitLanded("Ann", "a rat", 9, "hit", True, "awful"), "Ann") == \
        "You hit a rat for 9 damage. A critical hit! A rat is in awful condition."
    assert plain(ev.HitLanded("Ann", "Bob", 3, "hit", False, "wounded"), "Cid") == \
        "Ann hits Bob for 3 damage. Bob is wounded."


def test_no_condition_for_your_own_hurts_a_miss_or_a_killing_blow() -> None:
    assert plain(ev.HitLanded("a rat", "Ann", 2, "hit", False, "wounded"), "Ann") == \
        "A rat hits you for 2 damage."
    assert plain(ev.HitLanded("Ann", "a rat", 0, "miss", False, "wounded"), "Ann") == \
        "You miss a rat."
    assert plain(ev.HitLanded("Ann", "a rat", 5, "hit", False, "dead"), "Ann") == \
        "You hit a rat for 5 damage."
    assert plain(ev.HitLanded("Ann", "a rat", 5, "hit", False), "Ann") == \
        "You hit a rat for 5 damage."  # from an older server: no condition


def test_spells_and_skills_tell_it_too() -> None:
    assert plain(ev.SpellHit("Ann", "magic_missile", "a rat", 4, "wounded"), "Ann") == \
        "Your magic missile hits a rat for 4 damage. A rat is wounded."
    assert plain(ev.SkillUsed("Ann", "kick", "a rat", True, 3, "excellent"), "Ann") == \
        "Your kick hits a rat for 3 damage! A rat is in excellent condition."


def test_a_corpse_rots_away() -> None:
    assert plain(ev.Decayed("the corpse of a rat", "corpse"), "Ann") == \
        "The corpse of a rat crumbles into dust."


def test_the_style_of_a_blow_says_who_hit_whom() -> None:
    """Telnet colours: yours in the notice colour, the foe's in the warning one, a miss dim."""
    mine = render.render(ev.HitLanded("Ann", "a rat", 2, "hit", False, "wounded"), "Ann")
    theirs = render.render(ev.HitLanded("a rat", "Ann", 2, "hit", False, "wounded"), "Ann")
    missed = render.render(ev.HitLanded("a rat", "Ann", 0, "miss", False, "wounded"), "Ann")
    assert [s for s, _ in mine] == ["notice"]
    assert [s for s, _ in theirs] == ["warning"]
    assert [s for s, _ in missed] == ["dim"]
