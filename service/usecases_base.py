"""What every group of use cases holds: the store, the clock, the limits, the pager
and the optional notifier, credential signer and media control."""

from __future__ import annotations

from service.domain.clock import Clock
from service.domain.limits import Limits
from service.domain.paging import Pager, PageTokens
from service.domain.ports import (
    CredentialSigner,
    MediaControl,
    Notifier,
    RoomStore,
)

# How many times an update re-reads and retries after a concurrent change.
UPDATE_ATTEMPTS = 5


class UseCasesBase:
    """The dependencies of the use cases."""

    def __init__(
        self,
        store: RoomStore,
        clock: Clock,
        limits: Limits,
        page_tokens: PageTokens,
        notifier: Notifier | None = None,
        credentials: CredentialSigner | None = None,
        media: MediaControl | None = None,
    ) -> None:
        self._credentials = credentials
        self._media = media
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._limits = limits
        self._pages = Pager(page_tokens, limits)

    @property
    def limits(self) -> Limits:
        """The limits the rules apply (the edge checks a batch's size before converting it)."""
        return self._limits
