import json

from aion.agents.app import size_chunks


def test_size_chunks_keeps_order_and_stays_near_the_limit():
    docs = [{"i": i, "pad": "x" * (i * 37 % 300)} for i in range(200)]
    chunks = size_chunks(docs, 2000)
    assert [d for c in chunks for d in c] == docs
    for c in chunks:
        sizes = [len(json.dumps(d, separators=(",", ":"))) for d in c]
        assert sum(sizes) <= 2000 or len(c) == 1
    assert size_chunks([], 10) == []
    big = [{"pad": "y" * 5000}]
    assert size_chunks(big, 100) == [big]
