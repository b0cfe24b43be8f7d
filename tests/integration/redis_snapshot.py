"""Whole-Redis snapshots for comparing runs: type, contents and TTL of every key.

Imported by the integration tests of this folder (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import json
import re
import string

import redis

from aion.config import KeyLayout, url_for_db

DBS = (0, 1, 2, 3, 5)


def _kind_matchers(layout: KeyLayout) -> list[tuple[str, int, re.Pattern[str]]]:
    """``(kind, db, regex)`` per key pattern of the layout (placeholders match anything)."""
    out = []
    for kind, spec in layout.specs.items():
        rx = "".join(re.escape(lit) + (".+" if name else "")
                     for lit, name, _, _ in string.Formatter().parse(spec.pattern))
        out.append((kind, spec.db, re.compile(rx)))
    return out


def redis_snapshot(url: str) -> dict[int, dict[str, object]]:
    """Every key of the mirrored databases: type, full contents and TTL.

    Lists are read whole (the ``volume_profile:historical`` dedupe shows there). A TTL is
    recorded as the layout's TTL for the key's kind when the live TTL is consistent with
    it (``-1`` for no expiry; ``0 < ttl <= layout ttl`` otherwise, since it counts down),
    and as the raw live value when it is not, so a wrong TTL shows up as a difference.
    """
    layout = KeyLayout.load()
    matchers = _kind_matchers(layout)
    out: dict[int, dict[str, object]] = {}
    for db in DBS:
        client = redis.Redis.from_url(url_for_db(url, db), decode_responses=True)
        data: dict[str, object] = {}
        for key in client.scan_iter(count=1000):
            if key.startswith("aion:mirror:"):
                continue  # the mirror's own bookkeeping: offsets differ after duplicates
            kind = client.type(key)
            if kind == "hash":
                value: object = client.hgetall(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == "string":
                value = client.get(key)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            elif kind == "stream":
                # Entry ids are arrival times: compare the entries as a sorted multiset.
                value = sorted(json.dumps(fields, sort_keys=True)
                               for _, fields in client.xrange(key))
            else:
                raise AssertionError(f"db{db} {key}: unexpected Redis type {kind}")
            kinds = [k for k, kdb, rx in matchers if kdb == db and rx.fullmatch(key)]
            assert len(kinds) == 1, f"db{db} {key}: matches layout kinds {kinds}"
            want = layout.specs[kinds[0]].ttl
            live = client.ttl(key)
            ok = live == -1 if want is None else 0 < live <= want
            data[key] = (kind, value, want if ok else f"ttl {live}")
        out[db] = data
        client.close()
    return out


def redis_diff(a: dict[int, dict[str, object]], b: dict[int, dict[str, object]]) -> list[str]:
    """Human-readable differences between two snapshots (first few)."""
    out = []
    for db in DBS:
        for key in sorted(set(a[db]) | set(b[db])):
            if a[db].get(key) != b[db].get(key):
                out.append(f"db{db} {key}: {a[db].get(key)!r} != {b[db].get(key)!r}")
    return out[:5]
