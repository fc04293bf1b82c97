"""`extractor extract merge`: the outputs of `extractor extract --shard K/N` (all N of them) joined
back in input order (``seq``), refusing missing, unfinished or mixed shards, and checking that no
passage is missing or repeated. The merged file is written beside the output and renamed over it,
so a killed merge leaves nothing half-written."""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ..core.errors import ConfigError
from ..core.files import atomic_write
from .corpus import Shard, meta_path, read_records, sink_for


def merge(shards: Iterable[Path], out: Path | None, log: Callable[[str], None] = print) -> int:
    """Join shard outputs into one file in input order; refuses missing, unfinished or mixed shards."""
    shards = [Path(s) for s in shards]
    metas = []
    for s in shards:
        mp = meta_path(s)
        if not s.exists() or not mp.exists():
            raise ConfigError(f"{s}: no such shard output (or its {mp.name} is missing).")
        meta = json.loads(mp.read_text())
        if not meta.get("finished"):
            raise ConfigError(f"{s}: this shard has not finished; continue it with `extractor extract ... "
                              f"--shard {meta.get('shard')} --out {s} --resume`, then merge.")
        metas.append(meta)
    same = {k: {json.dumps(m.get(k)) for m in metas} for k in ("task", "variant", "run", "adapter_sha256", "inputs",
                                                                "field", "resolve_lines", "passages_total",
                                                                "min_confidence")}
    mixed = [k for k, values in same.items() if len(values) > 1]
    if mixed:
        raise ConfigError(f"the shard outputs were made with different {', '.join(mixed)}; merge shards of one run.")
    ns = {Shard.parse(m["shard"]).n for m in metas}
    ks = sorted(Shard.parse(m["shard"]).k for m in metas)
    n = ns.pop() if len(ns) == 1 else None
    if n is None or ks != list(range(1, n + 1)):
        have = ", ".join(m["shard"] for m in metas)
        raise ConfigError(f"merge needs every shard K/N of one N exactly once; got {have}.")
    total = metas[0]["passages_total"]
    tmp = out.with_name(f".{out.name}.merging") if out else None
    if tmp:
        tmp.unlink(missing_ok=True)  # left by a merge that was killed
    writer, expected = sink_for(tmp), 0
    try:
        batch = []
        for rec in heapq.merge(*(read_records(s) for s in shards), key=lambda r: r["seq"]):
            if rec["seq"] != expected:
                what = "twice" if rec["seq"] < expected else f"missing (shard {expected % n + 1}/{n})"
                raise ConfigError(f"seq {min(rec['seq'], expected)} is {what}; re-run that shard with --resume.")
            expected += 1
            batch.append(rec)
            if len(batch) >= 256:
                writer.extend(batch)
                batch = []
        writer.extend(batch)
        if expected != total:
            raise ConfigError(f"the shards hold {expected} records but the inputs have {total} passages; "
                              "re-run the shards with --resume.")
    except BaseException:
        writer.close()
        if tmp:
            tmp.unlink(missing_ok=True)
        raise
    writer.close()
    if tmp:
        os.replace(tmp, out)
        meta = {**metas[0], "shard": "1/1", "merged_from": [str(s) for s in shards]}
        atomic_write(meta_path(out), json.dumps(meta, indent=2))
    log(f"merged {len(shards)} shards: {expected} records" + (f" -> {out}" if out else ""))
    return expected
