"""The rendered texts, once per test session (every golden test reads the same run)."""

from __future__ import annotations

import pytest

from tests.golden.render import all_texts


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return all_texts(tmp_path_factory.mktemp("golden"))
