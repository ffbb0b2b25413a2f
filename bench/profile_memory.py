#!/usr/bin/env python3
"""The server's profile memory and load time (issue 13 §4), against a
baseline built from another revision in the same run.

    eval "$(scripts/services up)"
    bench/profile_memory.py --dbname bench_creators [--baseline main] [--repeat 3]

Builds bench/profile_memory.cc of this tree against --baseline's sources
(git archive into build/profile_memory_baseline/<sha>, its own build dir),
then runs the baseline and this tree's build/bin/profile_memory alternately
--repeat times each on the database (read-only) and prints each run's JSON
line, then the median and range of every figure per build. The answers'
digest must be the same for both builds (the same GetUserProfile answers).
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"


def build_baseline(rev):
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    home = ROOT / "build" / "profile_memory_baseline" / sha[:12]
    src, build = home / "src", home / "build"
    if not (src / "CMakeLists.txt").exists():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    # This tree's bench program (it uses only ProfileStore's public interface).
    shutil.copy(ROOT / "bench" / "profile_memory.cc", src / "bench" / "profile_memory.cc")
    cmake = (src / "bench" / "CMakeLists.txt").read_text()
    if "profile_memory" not in cmake:
        cmake += ("\nadd_executable(profile_memory profile_memory.cc)\n"
                  "target_link_libraries(profile_memory PRIVATE scout_server absl::flags_parse "
                  "scout_warnings)\n")
        (src / "bench" / "CMakeLists.txt").write_text(cmake)
    env = dict(os.environ, CCACHE_BASEDIR=str(src))
    if not (build / "build.ninja").exists():
        subprocess.run(["cmake", "-S", str(src), "-B", str(build), "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["nice", "cmake", "--build", str(build), "-j", os.environ.get("SCOUT_JOBS", "2"),
                    "--target", "profile_memory"], check=True, env=env, stdout=subprocess.DEVNULL)
    return build / "bin" / "profile_memory", sha[:12]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dbname", required=True, help="database holding profile_facts")
    parser.add_argument("--baseline", default="main", help="git revision of the baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-only", action="store_true", help="build the baseline and stop")
    parser.add_argument("--no-baseline", action="store_true", help="this tree only")
    args = parser.parse_args()

    builds = []
    if not args.no_baseline:
        binary, sha = build_baseline(args.baseline)
        builds.append((f"baseline {args.baseline} ({sha})", binary))
    if args.build_only:
        return
    builds.append(("this tree", BIN / "profile_memory"))
    dsn = f"{os.environ['SCOUT_PG_DSN']} dbname={args.dbname}"
    results = {name: [] for name, _ in builds}
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    with open(out / "profile_memory.jsonl", "a") as log:
        for run in range(args.repeat):
            for name, binary in builds:
                line = subprocess.run([str(binary), f"--pg_dsn={dsn}"], check=True,
                                      capture_output=True, text=True).stdout.strip()
                result = json.loads(line)
                result.update(build=name, run=run + 1, dbname=args.dbname)
                print(json.dumps(result), flush=True)
                log.write(json.dumps(result) + "\n")
                results[name].append(result)

    digests = {r["answers_digest"] for rs in results.values() for r in rs}
    print(f"answers digest: {'the same in every run' if len(digests) == 1 else digests}")
    keys = ["profiles", "load_s", "rss_mb", "load_peak_mb", "reload_s", "reload_peak_mb",
            "after_reload_mb", "settled_mb", "to_proto_us"]
    for name, rs in results.items():
        print(name)
        for key in keys:
            values = [r[key] for r in rs]
            print(f"  {key:16} median {statistics.median(values):10.2f}   "
                  f"range {min(values):.2f} - {max(values):.2f}")
    if len(digests) != 1:
        sys.exit("the builds answer differently")


if __name__ == "__main__":
    main()
