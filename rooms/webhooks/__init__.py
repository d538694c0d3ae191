"""Webhooks (issue 18 §1): signed JSON events to the organisers' systems, at least once.

``event`` (the payload), ``catalog`` (domain events -> webhook events), ``signature`` (the
header), ``queue`` (the durable-queue port) with ``memory_queue`` and ``redis_queue``, ``lanes``
(per-room order and retry schedule, pure) and ``hooks`` (the producer every room action calls,
which never waits for Redis). The delivery worker is web/webhooks.py (it owns the HTTP client).
docs/webhooks.md is the contract.
"""
