"""The CLI and config loading use source names and option keys without importing the parsers;
they must be the registry's."""

from watcher.sources.names import SOURCE_NAMES
from watcher.sources.options import OPTION_KEYS
from watcher.sources.registry import SOURCES


def test_source_names_are_the_registry() -> None:
    assert SOURCE_NAMES == tuple(SOURCES)


def test_option_keys_are_the_sources_own() -> None:
    # config loading checks [sources.NAME] keys against OPTION_KEYS, never importing the parsers
    assert set(OPTION_KEYS) <= set(SOURCES)
    for name, cls in SOURCES.items():
        assert dict(cls.option_keys) == dict(OPTION_KEYS.get(name, {})), name
