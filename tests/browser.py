"""A small headless-Chromium helper for the tests: load a page at a given
window width and return what an injected script measured.

No driver library: ``chromium --headless --dump-dom`` prints the DOM after
the page has loaded. Headless Chromium's window is at least 500 px wide, so
the report is loaded in an <iframe> of the width under test (its own
viewport). A script injected at the top of the report's <head> records
console errors and uncaught exceptions from the start and, on ``load``,
posts its measurements to the outer page, which writes them into a
<pre id="planner-check"> element as JSON for the dump to carry back.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_PROBE = """
<script>
(function () {
  var errors = [];
  var orig = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    return orig.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    errors.push("error: " + (e.message || (e.target && (e.target.src || e.target.href)) || e));
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + e.reason);
  });
  window.addEventListener("load", function () {
    var root = document.documentElement;
    var width = root.clientWidth;
    var charts = Array.prototype.map.call(
      document.querySelectorAll("figure.chart svg"), function (svg) {
        var r = svg.getBoundingClientRect(), s = getComputedStyle(svg);
        return {left: r.left, right: r.right, width: r.width, height: r.height,
                visible: s.visibility !== "hidden" && s.display !== "none"
                         && parseFloat(s.opacity) > 0,
                texts: svg.querySelectorAll("text").length};
      });
    var wide = [];
    Array.prototype.forEach.call(document.querySelectorAll("body *"), function (el) {
      var r = el.getBoundingClientRect();
      if (r.right > width + 1 && !el.closest("table")) {
        wide.push(el.tagName + " " + (el.textContent || "").slice(0, 40));
      }
    });
    parent.postMessage(JSON.stringify({
      errors: errors, clientWidth: width, innerWidth: window.innerWidth,
      scrollWidth: root.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
      charts: charts, wide: wide.slice(0, 5)}), "*");
  });
})();
</script>
"""


_OUTER = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<script>
window.addEventListener("message", function (e) {
  var out = document.createElement("pre");
  out.id = "planner-check";
  out.textContent = e.data;
  document.body.appendChild(out);
});
</script>
<iframe src="page.html" style="border:0;width:%dpx;height:%dpx"></iframe>
</body></html>
"""


def find_chromium() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def measure(page_html: str, width: int, height: int = 900, binary: str | None = None) -> Any:
    """Load ``page_html`` in headless Chromium at ``width`` x ``height`` CSS
    pixels; return the probe's measurements (errors, widths, charts)."""
    exe = binary or find_chromium()
    assert exe is not None, "no Chromium found"
    probed = page_html.replace("<head>", "<head>" + _PROBE, 1)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(probed, encoding="utf-8")
        outer = Path(tmp) / "outer.html"
        outer.write_text(_OUTER % (width, height), encoding="utf-8")
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",  # tests may run as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={tmp}/profile",
            f"--window-size={max(width, 500) + 40},{height + 40}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            outer.as_uri(),
        ]
        env = dict(os.environ, HOME=tmp)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    m = re.search(r'<pre id="planner-check">(.*?)</pre>', done.stdout, re.S)
    assert m, f"Chromium printed no measurements (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(html.unescape(m.group(1)))
