"""The error tree. Transient errors are retried next poll; permanent ones need a person.

WatcherError
├── ConfigError             bad or missing configuration (names the key)
├── FetchError
│   ├── TransientFetchError network failure, timeout, 5xx, 429
│   └── PermanentFetchError 4xx, body too large, HTML where data was expected
├── ParseError              bytes that are not the format the source expects
├── GuardError              parsed, but not believable (too few records, mass removal)
└── StoreError              history would be damaged (e.g. out-of-order replay)
"""


class WatcherError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(WatcherError):
    pass


class FetchError(WatcherError):
    pass


class TransientFetchError(FetchError):
    pass


class PermanentFetchError(FetchError):
    pass


class ParseError(WatcherError):
    pass


class GuardError(WatcherError):
    """A snapshot that parsed but must not be diffed; `status` says how it is stored."""

    def __init__(self, message: str, status: str = "rejected") -> None:
        super().__init__(message)
        self.status = status


class StoreError(WatcherError):
    pass
