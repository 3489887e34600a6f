"""The ../shared layout the data-reading tests rely on is there (CI: must be; elsewhere: skipped)."""
from __future__ import annotations


def test_shared_dir_holds_papers_and_airbus_data(shared_dir):
    """Fail here, once and clearly, rather than in every test that reads the Airbus data."""
    airbus = shared_dir / "datasets" / "airbus-aircraft"
    assert (airbus / "annotations.csv").is_file()
    assert any((airbus / "images").glob("*.jpg"))
    assert (shared_dir / "papers" / "README.md").is_file()
