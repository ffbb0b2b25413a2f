#!/usr/bin/env python3
"""Palette cost per account, side by side on the same pictures (25 of
1080x1080 per account): the original method (full decode + k-means over every
pixel) against scout-palette cold (empty sample cache) and warm (cached
samples), all single-threaded, CPU seconds per account. Runs twice: on
genlake's flat pictures as generated, then on photo-like copies (noise added,
re-encoded at q90, ~200 KiB each) because decoding cost follows file size.
Writes bench/out/palette_contact_sheet.png.

    bench/palette_bench.py [--accounts 12] [--original-accounts 3] [--noise 5]
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, ROOT  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=12)
    parser.add_argument("--original-accounts", type=int, default=3)
    parser.add_argument("--noise", type=float, default=5.0)
    args = parser.parse_args()
    work = ROOT / ".scout" / "bench" / f"palette-{args.accounts}"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([BIN / "scout-genlake", "--lake", work / "lake", "--cdn", work / "cdn",
                    "--users", str(args.accounts), "--days", "30", "--today", "2026-11-20",
                    "--image-size", "1080"], check=True, stdout=subprocess.DEVNULL)
    for label, extra in (("genlake pictures", ["--contact_sheet",
                                                str(ROOT / "bench/out/palette_contact_sheet.png")]),
                         ("photo-like pictures", ["--noise", str(args.noise)])):
        out = subprocess.run([BIN / "palette_bench", "--cdn", work / "cdn",
                              "--accounts", str(args.accounts),
                              "--original_accounts", str(args.original_accounts),
                              "--cache_dir", str(work / "cache"), *extra],
                             check=True, capture_output=True, text=True)
        sys.stderr.write(out.stderr)
        for line in out.stdout.splitlines():
            row = json.loads(line)
            row["pictures"] = label
            print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
