"""Two patches that keep Faust's at-least-once promise (found by our kill -9 test).

1. **Commit before the changelog is written.** Faust flushes its producer buffer before
   committing offsets, but ``ProducerBuffer.flush`` gives up after 0.1 s without a sent
   message and returns with messages still queued. Under load the offsets of a bundle
   could then be committed while its table writes were still in the buffer; a crash at
   that moment restores a state that never saw the bundle, and the bundle is not
   redelivered. :func:`install` makes the flush wait until the buffer is empty.
2. **Short highwaters on Tansu.** Tansu answers ListOffsets(latest) with the base
   offset of the last record batch plus one, so a partition whose last batch holds
   several records looks shorter than it is. Faust's table recovery reads each changelog
   partition up to that "highwater": on Tansu it would stop early and restore a state
   that misses its newest writes (our kill -9 test caught that too). The patched
   highwater query takes the high watermark of a Fetch response instead.

Both are harmless on Kafka/Redpanda.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)

_installed: dict[str, str] = {}


def install(bootstrap: str) -> None:
    """Make Faust's producer flush complete and its highwaters true.

    Args:
        bootstrap: Broker address used for the extra Fetch (one short-lived consumer
            per topic, only when Faust asks: at recovery, not per event).
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
    from faust.transport.producer import ProducerBuffer
    from faust.types import TP

    from aion.streams.topics import high_watermarks

    _installed["bootstrap"] = bootstrap
    if getattr(AIOKafkaConsumerThread, "_aion_patched", False):
        return

    async def flush(self: ProducerBuffer) -> None:
        # flush_atmost returns after a 0.1 s lull even with messages queued: loop.
        while self.size:
            await self.flush_atmost(None)

    ProducerBuffer.flush = flush  # type: ignore[method-assign]
    original = AIOKafkaConsumerThread._highwaters

    async def _highwaters(self: AIOKafkaConsumerThread, partitions: list[TP]) -> Mapping[TP, int]:
        reported = dict(await original(self, partitions))
        if self.consumer.in_transaction:
            return reported
        for topic in {tp.topic for tp in partitions}:
            marks = await high_watermarks(_installed["bootstrap"], topic)
            for tp in partitions:
                if tp.topic == topic and marks.get(tp.partition, 0) > reported.get(tp, 0):
                    log.debug("highwater of %s corrected %s -> %s", tp, reported.get(tp),
                              marks[tp.partition])
                    reported[tp] = marks[tp.partition]
        return reported

    AIOKafkaConsumerThread._highwaters = _highwaters  # type: ignore[method-assign]
    AIOKafkaConsumerThread._aion_patched = True  # type: ignore[attr-defined]
