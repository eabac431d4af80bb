"""Builds TL values with Telethon and prints their serialized bytes, one JSON object per line.

The Rust test `tests/tl_telethon_interop.rs` decodes every value with the generated types and
requires re-encoding to give the same bytes. Values are filled from `schema/api.tl` (read here only
to know each constructor's parameters); building and serializing is Telethon's own code.

`schema/index.tl` (every sampled layer) is read for Telethon's own layer only: the lines whose
`// layers` comment names it.

Each constructor is emitted twice: "full" (every optional field set, vectors with two elements,
long strings and bytes that need the 254-prefix form) and "none" (no optional field set).
"""

import inspect
import json
import random
import re
import sys

import telethon
from telethon.tl.alltlobjects import LAYER, tlobjects

SCHEMA_FILES = sys.argv[1:] or ["schema/api.tl", "schema/mtproto.tl"]
MAX_DEPTH = 4

LINE = re.compile(r"^([a-zA-Z0-9_.]+)#([0-9a-f]+)(.*?)=\s*([^;]+);")


def in_layer(spec, layer, sampled):
    """Whether `// layers 133-222,230` names `layer` (one of the sampled layers)."""
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        if int(lo) <= layer <= int(hi or lo) and layer in sampled:
            return True
    return False


def parse_schema(paths):
    ctors, by_type, funcs = {}, {}, {}
    for path in paths:
        section = "types"
        sampled, keep = None, True
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if "(exactly:" in line:
                sampled = {int(n) for n in line.split("(exactly:")[1].split(")")[0].split()}
                continue
            if sampled is not None and line.startswith("// layers "):
                keep = in_layer(line[len("// layers "):], LAYER, sampled)
                continue
            if not keep:
                keep = True
                continue
            if line == "---functions---":
                section = "functions"
                continue
            if line == "---types---":
                section = "types"
                continue
            m = LINE.match(line)
            if not m:
                continue
            name, cid, params, result = m.group(1), int(m.group(2), 16), m.group(3), m.group(4).strip()
            args = []
            for tok in params.split():
                if tok.startswith("{"):
                    continue
                pname, ptype = tok.split(":", 1)
                flag = None
                if "?" in ptype:
                    cond, ptype = ptype.split("?", 1)
                    flag = cond
                args.append((pname, ptype, flag))
            d = {"name": name, "id": cid, "args": args, "result": result}
            if section == "types":
                ctors[name] = d
                by_type.setdefault(result, []).append(d)
            else:
                funcs[name] = d
    return ctors, by_type, funcs


CTORS, BY_TYPE, FUNCS = parse_schema(SCHEMA_FILES)
rng = random.Random(229)


def text(full):
    # Non-ASCII text; "full" values cross the 254-byte boundary of the long length form.
    base = "Тест ✓ ünïcödé "
    return base * (20 if full else 1)


def blob(full):
    n = 300 if full else rng.randrange(1, 9)
    return bytes(rng.randrange(256) for _ in range(n))


def required_weight(d):
    return sum(1 for (_, t, f) in d["args"] if f is None and t != "#")


def value(ty, full, depth):
    if ty.startswith("Vector<") or ty.startswith("vector<"):
        inner = ty[7:-1]
        return [value(inner, full, depth + 1) for _ in range(2 if full and depth < MAX_DEPTH else 1)]
    if ty == "int":
        return rng.randrange(-(2**31), 2**31)
    if ty == "long":
        return rng.randrange(-(2**63), 2**63)
    if ty == "double":
        return rng.uniform(-1e6, 1e6)
    if ty == "int128":
        return rng.randrange(-(2**127), 2**127)
    if ty == "int256":
        return rng.randrange(-(2**255), 2**255)
    if ty == "string":
        return text(full)
    if ty == "bytes":
        return blob(full)
    if ty == "Bool":
        return rng.random() < 0.5
    if ty == "true":
        return True
    if ty == "!X":
        return build(FUNCS["help.getConfig"], full, depth + 1)
    options = BY_TYPE.get(ty)
    if options is None:
        bare = CTORS[ty]  # a bare constructor such as future_salt
        return build(bare, full, depth + 1)
    if depth >= MAX_DEPTH:
        choice = min(options, key=required_weight)
    else:
        choice = rng.choice(options)
    return build(choice, full and depth < 2, depth + 1)


def build(d, full, depth):
    cls = tlobjects[d["id"]]
    params = inspect.signature(cls.__init__).parameters
    kwargs = {}
    for pname, ptype, flag in d["args"]:
        if ptype == "#":
            continue
        if flag is not None and not full:
            continue
        py = "is_self" if pname == "self" else pname
        if py not in params:
            py = pname + "_"
        if py not in params:
            raise SystemExit(f"{d['name']}: Telethon has no parameter for {pname}")
        kwargs[py] = value(ptype, full, depth)
    # Telethon's patched message classes take every message constructor's fields, some of them
    # required (messageEmpty's optional peer_id): set those too.
    for pname, ptype, flag in d["args"]:
        p = params.get(pname)
        if pname != "self" and ptype != "#" and p is not None and p.default is inspect.Parameter.empty and pname not in kwargs:
            kwargs[pname] = value(ptype.split("?")[-1], full, depth)
    return cls(**kwargs)


def wanted():
    names = []
    for name in CTORS:
        if name.startswith("auth."):
            names.append(("type", name))
    for name, d in CTORS.items():
        if d["result"] in ("account.Password", "User", "Config", "Updates"):
            names.append(("type", name))
    for name in FUNCS:
        if name.startswith("auth."):
            names.append(("function", name))
    for name in ("users.getUsers", "help.getConfig", "updates.getState", "updates.getDifference",
                 "account.getPassword", "account.getAuthorizations", "invokeWithLayer", "initConnection"):
        names.append(("function", name))
    # The MTProto service constructors Telethon serializes too (handshake and service messages).
    for name in ("resPQ", "p_q_inner_data", "p_q_inner_data_dc", "p_q_inner_data_temp_dc",
                 "server_DH_inner_data", "client_DH_inner_data", "dh_gen_ok", "bad_server_salt",
                 "new_session_created", "future_salts", "pong", "msgs_ack", "rpc_error"):
        names.append(("type", name))
    for name in ("req_pq_multi", "req_DH_params", "set_client_DH_params", "ping_delay_disconnect",
                 "get_future_salts", "destroy_session"):
        names.append(("function", name))
    return names


def main():
    print(json.dumps({"telethon": telethon.__version__, "layer": LAYER}))
    for kind, name in wanted():
        d = (CTORS if kind == "type" else FUNCS)[name]
        for variant in ("full", "none"):
            obj = build(d, variant == "full", 0)
            data = bytes(obj)
            print(json.dumps({"name": name, "variant": variant, "id": d["id"], "hex": data.hex()}))
    # Hand-picked: the first request every Telethon connection sends.
    from telethon.tl import functions, types
    first = functions.InvokeWithLayerRequest(LAYER, functions.InitConnectionRequest(
        api_id=4, device_model="x86_64", system_version="Linux", app_version="1.45.0",
        system_lang_code="en", lang_pack="", lang_code="en", query=functions.help.GetConfigRequest()))
    print(json.dumps({"name": "invokeWithLayer", "variant": "telethon-first-request",
                      "id": 0xda9b0d0d, "hex": bytes(first).hex()}))
    me = functions.users.GetUsersRequest([types.InputUserSelf()])
    print(json.dumps({"name": "users.getUsers", "variant": "inputUserSelf", "id": 0x0d91a548,
                      "hex": bytes(me).hex()}))


if __name__ == "__main__":
    main()
