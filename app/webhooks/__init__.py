"""Signed webhooks with a durable outbox (issue 17, item 5).

Where each part lives:

* app.webhooks.subscription: what a receiver is (an http(s) URL and a Standard Webhooks secret), checked the
  same way for GARDEN_WEBHOOKS and ``garden webhooks add``;
* app.ingest.outbox: the enqueue, inside the ingest transaction (app.ingest.write), so that an ingest that rolls
  back enqueues nothing and one that commits always has its deliveries;
* app.queries.webhooks: every statement on the three tables (app.models_webhooks);
* app.webhooks.deliver: the delivery thread each serving process runs (app.main's lifespan);
* app.webhooks.cli: ``garden webhooks add|list|remove|log``.

Decided where the issue is silent:

* Every committed ingest enqueues one event per receiver, the first ingest included: it is when a static site is
  first built. It records no change entries (app.ingest.changes), so its event says ``"changes": null`` (not
  counts of zero) and names no /changes URL: a receiver starts from the feeds. An unchanged ingest commits
  nothing and sends nothing. A version whose changes anonymous readers cannot see (a draft edited) is still
  announced, with counts of zero: its number is public (X-Corpus-Version) and a receiver may ignore it.
* The receivers of an ingest are those stored (``garden webhooks add``) plus GARDEN_WEBHOOKS as the process
  committing the ingest reads it (``garden ingest``, or ``garden serve``'s first load), one per URL (the stored
  one wins). Each delivery copies the URL and secret, so serving processes need no settings of their own, and
  ``garden webhooks remove`` also cancels the receiver's pending deliveries (state ``cancelled``, kept).
* Delivery is at least once: a process claims a due delivery (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: a
  conditional UPDATE) with a lease of three times GARDEN_WEBHOOK_TIMEOUT (httpx bounds connecting, sending and
  reading each) plus 2 s, POSTs it, and records the attempt. A process that dies mid-attempt leaves the lease to
  run out, and another process (or the same one restarted) sends the event again, with the same webhook-id, so
  a receiver can drop the duplicate; so does one whose record of an attempt comes after its lease (a database
  stalled for longer than that). A redirect is not followed: a 3xx is a failed attempt.
* Retries: after the n-th failed attempt, the next is GARDEN_WEBHOOK_RETRY_BASE * 2**(n-1) seconds later, at
  most GARDEN_WEBHOOK_RETRY_MAX, plus up to 25% random jitter. A delivery still failing GARDEN_WEBHOOK_EXPIRY
  seconds after its commit is marked ``expired`` (kept, with its attempts in the log), never silently dropped.
* Delivered, expired and cancelled deliveries and their log are kept as long as the change log keeps their
  version (GARDEN_CHANGE_RETENTION versions; each ingest drops older ones: app.ingest.outbox.prune), so the
  outbox stays small however many ingests run; ``garden webhooks log`` reads them. A pending delivery is never
  dropped, only marked expired.
"""
