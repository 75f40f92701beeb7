"""What the browser tests share: where Chromium is, and how to drive the app's tabs."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip

# The text of an element as a user reads it, shadow roots included (Bokeh widgets use them).
DEEP_TEXT = """el => {
  const walk = n => (n.shadowRoot ? walk(n.shadowRoot) : '') +
    Array.from(n.childNodes).map(c => c.nodeType === 3 ? c.textContent : walk(c)).join('');
  return walk(el);
}"""

# Run in each page before its own scripts: ``window.cspViolations`` lists what the policy refused.
CSP_VIOLATIONS = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(
  `${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def csp_violations(page: object) -> list[str]:
    return list(page.evaluate("() => window.cspViolations"))  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def tab(page: object, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()  # type: ignore[attr-defined]


def upload(page: object, *files: Path) -> None:
    tab(page, "Upload")
    page.locator("input[type=file]").first.set_input_files([str(f) for f in files])  # type: ignore[attr-defined]


def library_table(page: object) -> None:
    """The Library tab in its table view (the grid of cards is the default)."""
    tab(page, "Library")
    page.get_by_role("button", name="Table", exact=True).click()  # type: ignore[attr-defined]
