"""The outbox: notices and their deliveries, channel by channel (R109-R115).

Rules (issue 28; not from a seed document):

- R109. A notice is written in the transaction of the change that causes it, idempotent by its
  key; a notice that many people receive is one notice, with an in-app row per person and a
  delivery per channel target.
- R110. Nothing is sent inside a web request: each delivery is a row handed to the worker after
  commit, retried with exponential backoff, swept again when due or stuck (a dead worker, a lost
  message), and finally marked failed with its error.
- R111. Channels plug in through a registry (``channels.register``) under the contract below;
  e-mail is one of them.
- R112. Each person chooses, per kind of notice, in the app only, e-mail, or the daily digest;
  mandatory notices (an access grant's end, a suspension or hold, an assessment result) always
  go in the app and by e-mail.
- R113. Each person's language (their setting, default Chinese) is the language of their pages,
  notices, e-mails and digests, whoever or whatever job caused the notice.
- R114. Only administrators see deliveries: a page and an API with filters (failed, channel,
  person, date), Excel export, and re-sending of failed ones; the failures of the last 7 days
  show on their home page.
- R115. The daily digest of a person's notices and to-dos is sent once a day per person at
  ``CRM_DIGEST_TIME`` (Asia/Shanghai), a run after a missed one catching up.

What it does
------------
``crm.services.notify(recipients=..., verb=, title=, body=, url=, key=, email=)`` writes, in
the caller's transaction, one ``Notice`` (however many people it reaches; idempotent by
``key``), one in-app ``Notification`` row per recipient (title and body in that person's
language, R113) and one ``Delivery`` row per channel target. Nothing is sent inside the
request: each delivery is handed to the Celery worker with ``transaction.on_commit``, retried
with exponential backoff, and finally marked ``failed`` with its error; a periodic sweeper
hands due and stuck deliveries to the worker again, so a dead worker or a lost message never
loses one (R110). ``title`` and ``body`` may be callables (``lambda: _("...") % {...}``): they
are then rendered once per language, under ``translation.override``, so that each recipient
reads the notice in their own language whoever caused it; a plain string is delivered as given.

Channels: the contract (R111)
-----------------------------
Another app adds a channel without editing this package::

    from crm.outbox import DeliveryFailed, channels

    channels.register("robot", targets=robot_targets, send=robot_send, label=_("群机器人"))

A channel that routes by kind of notice reads ``crm.outbox.kinds.kind_of(notice.verb)``.

``targets(notice, recipients) -> list``
    Called inside the notifying transaction for every new notice, with the users newly
    notified (``recipients``; a list of ``crm.models.User``, possibly empty for none new). Returns
    the channel's targets for it: each a string (a robot's id, an address), or a pair
    ``(target, user_or_None)`` when the target stands for one person. One ``Delivery`` row is
    made per target (once per notice, channel and target). Read ``notice.verb``, ``notice.url``,
    ``notice.key`` and ``notice.text(language)`` (title, body) to decide. Must not send anything.
``send(delivery) -> None``
    Called by the worker, outside any transaction, for one ``Delivery`` (``delivery.notice``,
    ``delivery.target``, ``delivery.recipient``, ``delivery.attempts`` counting this one).
    Returning means delivered (the row becomes ``sent``). Raising
    ``DeliveryFailed(message, retry_after=None, permanent=False)`` means not delivered:
    ``retry_after`` (seconds) is honoured for the next attempt (a platform's rate limit: queue,
    do not drop); ``permanent=True`` fails the row at once (a bad address, a platform error code
    that a retry will not change). Any other exception is a failure to retry with backoff.
    After ``CRM_OUTBOX_MAX_ATTEMPTS`` attempts the row is ``failed`` with its last error; an
    administrator may re-send it from the deliveries page or the API (R114). ``send`` may run
    more than once for a row (at-least-once): keep it short (below the task time limit).

The built-in channel ``email`` (crm/outbox/email.py) e-mails each recipient who wants e-mail
for the notice's kind (R112), in their language.
"""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A channel's ``send`` could not deliver (see the contract above)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent
