"""What every use-case area is built from: one frozen object of keyword fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.domain.clock import Clock
from service.domain.limits import Limits
from service.domain.paging import Pager, PageTokens
from service.domain.ports import CredentialSigner, MediaControl, Notifier, RoomStore

# How many times an update re-reads and retries after a concurrent change.
UPDATE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    """The store, the clock, the limits and the page tokens; the change notifier
    (WatchRoom), the credential signer (AuthorizeJoin, IntrospectCredential) and the
    media control (Janus admissions) where the server has them."""

    store: RoomStore
    clock: Clock
    limits: Limits
    page_tokens: PageTokens
    notifier: Notifier | None = None
    credentials: CredentialSigner | None = None
    media: MediaControl | None = None
    pages: Pager = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", Pager(self.page_tokens, self.limits))
