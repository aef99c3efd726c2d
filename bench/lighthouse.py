"""Run Lighthouse (mobile profile) on the home, results and plan pages.

    .venv/bin/python bench/lighthouse.py [--plans N] [--json PATH] [--runs N]

Starts the app with demo data and a signed-in police responder who has opened
one plan (bench/page_budget.py's server), then runs npm's Lighthouse, pinned
below, on each page with the system Chromium (CHROME_PATH=/usr/bin/chromium),
sending the session cookie as a header. Prints the performance and accessibility
scores and the bytes transferred; exits 1 when performance is under 95 or
accessibility under 100 on any page. Lighthouse is taken from ./node_modules, or
installed with `npm install --no-save` into bench/out/lighthouse/ (ignored by git).
With --runs above 1 each page's median performance score is kept. With --dark
Chromium reports `prefers-color-scheme: dark` (--blink-settings), so the pages
are scored in their dark theme.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from page_budget import CHROMIUM, serve  # noqa: E402

LIGHTHOUSE_VERSION = "12.8.2"  # 13.x needs Node 22; Debian 12 ships Node 20
LOCAL_PREFIX = ROOT / "bench" / "out" / "lighthouse"
BAR_PERFORMANCE = 95
BAR_ACCESSIBILITY = 100
CHROME_FLAGS = " ".join(
    (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP localhost 127.0.0.1",
    )
)


DARK_FLAG = " --blink-settings=preferredColorScheme=0"  # 0: dark


def lighthouse_binary() -> Path:
    """Return the pinned Lighthouse CLI, installing it from npm if needed."""
    for folder in (ROOT, LOCAL_PREFIX):
        binary = folder / "node_modules" / ".bin" / "lighthouse"
        if binary.exists():
            return binary
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to install Lighthouse")
    LOCAL_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(LOCAL_PREFIX),
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
    )
    return LOCAL_PREFIX / "node_modules" / ".bin" / "lighthouse"


def run_lighthouse(
    binary: Path, url: str, headers_file: Path, out: Path, *, dark: bool = False
) -> dict[str, Any]:
    """Run Lighthouse once on one URL; return its JSON report."""
    environment = dict(os.environ, CHROME_PATH=CHROMIUM)
    # The session cookie travels in a file, never on a command line or in output.
    finished = subprocess.run(
        [
            str(binary),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            "--only-categories=performance,accessibility",
            "--form-factor=mobile",
            f"--chrome-flags={CHROME_FLAGS}{DARK_FLAG if dark else ''}",
            f"--extra-headers={headers_file}",
        ],
        env=environment,
        timeout=300,
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        tail = "\n".join(finished.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"Lighthouse failed on {url}:\n{tail}")
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Return the scores and transfer figures of one Lighthouse report."""
    categories = report["categories"]
    audits = report["audits"]

    def numeric(name: str) -> float | None:
        value = audits.get(name, {}).get("numericValue")
        return None if value is None else float(value)

    failed_accessibility = [
        ref["id"]
        for ref in categories["accessibility"]["auditRefs"]
        if ref.get("weight", 0) > 0 and audits[ref["id"]].get("score") not in (1, None)
    ]
    return {
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "total_bytes": numeric("total-byte-weight"),
        "first_contentful_paint_ms": numeric("first-contentful-paint"),
        "largest_contentful_paint_ms": numeric("largest-contentful-paint"),
        "total_blocking_time_ms": numeric("total-blocking-time"),
        "cumulative_layout_shift": numeric("cumulative-layout-shift"),
        "accessibility_failures": failed_accessibility,
    }


def main(argv: list[str] | None = None) -> int:
    """Score each page and check the bars."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--dark", action="store_true", help="score the dark theme")
    args = parser.parse_args(argv)
    binary = lighthouse_binary()
    results: dict[str, Any] = {"lighthouse": LIGHTHOUSE_VERSION, "pages": {}}
    ok = True
    with serve(args.plans) as server, tempfile.TemporaryDirectory() as folder:
        headers_file = Path(folder) / "headers.json"
        headers_file.write_text(
            json.dumps({"Cookie": f"{server.cookie_name}={server.cookie_value}"}),
            encoding="utf-8",
        )
        for name, path in server.pages.items():
            runs = [
                summarise(
                    run_lighthouse(
                        binary,
                        server.url + path,
                        headers_file,
                        Path(folder) / f"{name}-{attempt}.json",
                        dark=args.dark,
                    )
                )
                for attempt in range(args.runs)
            ]
            runs.sort(key=lambda run: run["performance"])
            page = dict(runs[len(runs) // 2])
            page["performance_runs"] = [run["performance"] for run in runs]
            landed = str(page["final_url"] or "")
            if not landed.startswith(server.url + path.split("?")[0]):
                print(f"{name}: Lighthouse landed on {landed}, not {path}")
                ok = False
            results["pages"][name] = page
            ok = ok and page["performance"] >= BAR_PERFORMANCE
            ok = ok and page["accessibility"] >= BAR_ACCESSIBILITY
            print(
                f"{name:8} performance {page['performance']:3d} "
                f"(runs {page['performance_runs']}), accessibility "
                f"{page['accessibility']:3d}, {page['total_bytes'] or 0:.0f} B, "
                f"FCP {page['first_contentful_paint_ms'] or 0:.0f} ms, "
                f"LCP {page['largest_contentful_paint_ms'] or 0:.0f} ms, "
                f"TBT {page['total_blocking_time_ms'] or 0:.0f} ms, "
                f"CLS {page['cumulative_layout_shift'] or 0:.3f}"
                + (
                    f", failing: {', '.join(page['accessibility_failures'])}"
                    if page["accessibility_failures"]
                    else ""
                )
            )
    median = statistics.median(
        page["performance"] for page in results["pages"].values()
    )
    print(f"median performance across pages: {median}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
