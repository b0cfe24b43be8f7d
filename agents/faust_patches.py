"""Work-arounds that make Faust correct on the embedded Tansu broker (harmless on Kafka).

Tansu answers ListOffsets(latest) with the base offset of the last record batch plus
one, so a partition whose last batch holds several records looks shorter than it is.
Faust's table recovery reads each changelog partition up to that "highwater": on Tansu
it would stop early and restore a state that misses its newest writes (our kill -9 test
caught exactly that). :func:`install` makes Faust's highwater query take the high
watermark of a Fetch response instead, which is right on both brokers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)

_installed: dict[str, str] = {}


def install(bootstrap: str) -> None:
    """Patch Faust's aiokafka consumer thread to report true high watermarks.

    Args:
        bootstrap: Broker address used for the extra Fetch (one short-lived consumer
            per topic, only when Faust asks: at recovery, not per event).
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
    from faust.types import TP

    from aion.streams.topics import high_watermarks

    _installed["bootstrap"] = bootstrap
    if getattr(AIOKafkaConsumerThread, "_aion_patched", False):
        return
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
