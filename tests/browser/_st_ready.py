"""Waiting for a Streamlit page to be drawn, shared by the browser tests."""

from __future__ import annotations

TIMEOUT = 60_000  # ms

READY_JS = """() => {
    const app = document.querySelector('[data-test-script-state]');
    return app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stSkeleton"]')
        && document.querySelector('h1') !== null;
}"""


def wait_ready(page) -> None:
    """Wait until the script has run and every element is drawn (twice, 0.5 s apart)."""
    for _ in range(2):
        page.wait_for_function(READY_JS, timeout=TIMEOUT)
        page.wait_for_timeout(500)
    page.wait_for_function(READY_JS, timeout=TIMEOUT)
