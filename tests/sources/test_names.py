"""The CLI offers source names without importing the parsers; the list must be the registry's."""

from watcher.sources.names import SOURCE_NAMES
from watcher.sources.registry import SOURCES


def test_source_names_are_the_registry() -> None:
    assert SOURCE_NAMES == tuple(SOURCES)
