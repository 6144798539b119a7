#!/usr/bin/env python3
"""Seed fuzz/corpus/<target>/ from the shared test vectors.

Random bytes rarely get past a decoder's first checks; starting from real
encodings lets libFuzzer mutate valid proofs, packets and invoices. Reads
$LUMEN_VECTORS_DIR or ../../shared/vectors (relative to this file) and
writes one file per distinct input, named by its SHA-256. The corpus is not
committed.

    python3 fuzz/seed-corpus.py && cargo +nightly fuzz run tap_proof_file_decode
"""
import base64
import binascii
import hashlib
import json
import os
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = pathlib.Path(os.environ.get("LUMEN_VECTORS_DIR", HERE / "../../shared/vectors")).resolve()
CORPUS = HERE / "corpus"

# vector folder (relative to VECTORS) -> fuzz targets fed from it
ROUTES = {
    "taproot-assets/address": ["tap_address_decode"],
    "taproot-assets/asset": ["tap_asset_decode", "tap_vm_execute"],
    "taproot-assets/proof": ["tap_proof_decode", "tap_proof_file_decode", "tap_commitment_proof_decode"],
    "taproot-assets/tappsbt": ["tap_vpsbt_decode"],
    "taproot-assets/rfqmsg": ["tap_rfq_channel_decode"],
    "taproot-assets/tapchannelmsg": ["tap_rfq_channel_decode"],
    "taproot-assets/tapchannel": ["tap_rfq_channel_decode"],
    "taproot-assets/vm": ["tap_vm_execute", "tap_asset_decode"],
    "bolts/bolt4": ["onion_peel"],
    "bolts/tlv.json": ["tlv_stream_decode"],
    "bolts/bigsize.json": ["tlv_stream_decode"],
    "bolts/bolt1_init_extension.json": ["wire_message_decode"],
    "bolts/bolt7": ["wire_message_decode"],
    "bolts/bolt11.json": ["bolt11_decode"],
}

HEX = re.compile(r"^(0x)?([0-9a-fA-F]{2}){4,}$")
B64 = re.compile(r"^[A-Za-z0-9+/]{16,}={0,2}$")
TEXT = re.compile(r"^(ln|tap|LN|TAP)[0-9a-zA-Z]+1[0-9a-zA-Z]{6,}$")


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def inputs(path):
    raw = path.read_bytes()
    if path.suffix == ".hex":
        text = raw.decode("ascii", "replace").strip()
        try:
            yield binascii.unhexlify(re.sub(r"\s+", "", text))
        except (binascii.Error, ValueError):
            yield raw
        return
    if path.suffix == ".hexdump":
        # `hexdump -C` layout: offset, up to 16 hex bytes, |ascii|.
        out = bytearray()
        for line in raw.decode("ascii", "replace").splitlines():
            body = line.split("|", 1)[0].split()[1:]
            out.extend(int(b, 16) for b in body if re.fullmatch(r"[0-9a-fA-F]{2}", b))
        yield bytes(out)
        return
    if path.suffix != ".json":
        return
    try:
        doc = json.loads(raw)
    except ValueError:
        return
    for s in strings(doc):
        if TEXT.match(s):
            yield s.encode()
        elif HEX.match(s):
            yield binascii.unhexlify(s[2:] if s.startswith("0x") else s)
        elif B64.match(s) and len(s) % 4 == 0:
            try:
                yield base64.b64decode(s, validate=True)
            except (binascii.Error, ValueError):
                pass


def main():
    if not VECTORS.is_dir():
        sys.exit(f"no vectors at {VECTORS} (set LUMEN_VECTORS_DIR)")
    counts = {}
    for rel, targets in ROUTES.items():
        root = VECTORS / rel
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            for data in inputs(f):
                if not data:
                    continue
                name = hashlib.sha256(data).hexdigest()[:40]
                for t in targets:
                    d = CORPUS / t
                    d.mkdir(parents=True, exist_ok=True)
                    out = d / name
                    if not out.exists():
                        out.write_bytes(data)
                        counts[t] = counts.get(t, 0) + 1
    for t in sorted(counts):
        print(f"{t}: {counts[t]} seeds")


if __name__ == "__main__":
    main()
