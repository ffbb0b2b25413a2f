#!/usr/bin/env python3
"""Palette cost per account, side by side on the same pictures (25 of
1080x1080 per account): the original method (full decode + k-means over every
pixel) against scout-palette cold (empty sample cache) and warm (cached
samples), all single-threaded, CPU seconds per account. Runs twice: on
genlake's flat pictures as generated, then on photo-like copies (noise added,
re-encoded at q90, ~200 KiB each) because decoding cost follows file size.
Then palette quality (issue 13 §1): fine-detail accounts against their truth
and real photographs (scripts/photos) against full-pixel k-means.
Writes bench/out/palette_contact_sheet.png.

    bench/palette_bench.py [--accounts 12] [--original-accounts 3] [--noise 5]
                           [--fine-detail-accounts 4]
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
    parser.add_argument("--fine-detail-accounts", type=int, default=4)
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
    # Quality (issue 13 §1): fine detail against its truth, real photographs
    # against full-pixel k-means over every pixel, both in this run.
    photos = subprocess.run([ROOT / "scripts" / "photos"], check=True, capture_output=True,
                            text=True).stdout.strip()
    for extra in (["--fine_detail", str(args.fine_detail_accounts), "--images", "25"],
                  ["--photos", photos]):
        out = subprocess.run([BIN / "palette_bench", *extra], check=True, capture_output=True,
                             text=True)
        for line in out.stdout.splitlines():
            print(line, flush=True)


if __name__ == "__main__":
    main()
