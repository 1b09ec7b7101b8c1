"""PyTorch CPU eager reference for `npm run bench:torch` (bench/torch.ts): the Llama-shaped LoRA train step of
bench/llama-forward.ts, same seeded weights (read from the files torch.ts writes), same batch, same AdamW and
clipping, timed the same way. Prints one JSON line: losses of every step, ms per timed step (mean and fastest), threads, the BLAS
library PyTorch loaded. Usage: python3 bench/torch_step.py DIR (DIR holds manifest.json and tensors.bin)."""
import json
import math
import sys
import time

import torch


def main(folder: str) -> None:
    manifest = json.load(open(f"{folder}/manifest.json"))
    raw = open(f"{folder}/tensors.bin", "rb").read()
    d = manifest["dims"]
    torch.set_num_threads(manifest["threads"])
    tensors = {}
    for t in manifest["tensors"]:
        dtype = torch.float32 if t["dtype"] == "float32" else torch.int32
        flat = torch.frombuffer(bytearray(raw[t["offset"]:t["offset"] + t["length"]]), dtype=dtype)
        tensors[t["name"]] = flat.reshape(t["dims"]).clone()

    B, T, H, V = d["batch"], d["seq"], d["hidden"], d["vocab"]
    nh, nkv, r = d["heads"], d["kvHeads"], d["rank"]
    hd = H // nh
    scale = d["alpha"] / r
    frozen = {k: v for k, v in tensors.items() if k not in manifest["trainable"] and k not in ("input_ids", "labels")}
    params = {k: tensors[k].requires_grad_(True) for k in manifest["trainable"]}
    ids = tensors["input_ids"].long()
    labels = tensors["labels"].long()
    cos, sin = frozen["rope.cos"], frozen["rope.sin"]
    causal = torch.triu(torch.full((T, T), -1e9), diagonal=1)

    def rms(x, w):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def linear(p, name, x):
        lora = (x @ params[f"{p}.{name}.lora_A.weight"].t()) @ params[f"{p}.{name}.lora_B.weight"].t()
        return x @ frozen[f"{p}.{name}.weight"] + lora * scale

    def heads(x, n):
        return x.reshape(B, T, n, hd).transpose(1, 2)

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def forward():
        x = frozen["embed_tokens.weight"][ids]
        for l in range(d["layers"]):
            p = f"layers.{l}"
            h = rms(x, frozen[f"{p}.input_layernorm.weight"])
            q = rope(heads(linear(p, "q_proj", h), nh))
            k = rope(heads(linear(p, "k_proj", h), nkv))
            v = heads(linear(p, "v_proj", h), nkv)
            if nkv != nh:
                k = k.repeat_interleave(nh // nkv, dim=1)
                v = v.repeat_interleave(nh // nkv, dim=1)
            scores = (q @ k.transpose(2, 3)) * (1 / math.sqrt(hd)) + causal
            attn = torch.softmax(scores, dim=-1) @ v
            x = x + linear(p, "o_proj", attn.transpose(1, 2).reshape(B, T, H))
            h2 = rms(x, frozen[f"{p}.post_attention_layernorm.weight"])
            gate = linear(p, "gate_proj", h2)
            x = x + linear(p, "down_proj", torch.nn.functional.silu(gate) * linear(p, "up_proj", h2))
        return rms(x, frozen["norm.weight"]) @ frozen["lm_head.weight"]

    opt = torch.optim.AdamW(list(params.values()), lr=manifest["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=manifest["weightDecay"])

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        logits = forward()
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), reduction="mean")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), manifest["maxGradNorm"])
        opt.step()
        return float(loss)

    losses = [step() for _ in range(manifest["warmup"])]
    start = time.perf_counter()
    fastest = math.inf
    for _ in range(manifest["steps"]):
        t = time.perf_counter()
        losses.append(step())
        fastest = min(fastest, (time.perf_counter() - t) * 1000)
    ms = (time.perf_counter() - start) * 1000 / manifest["steps"]
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and line.split()[-1].startswith("/")})
    print(json.dumps({"losses": losses, "msPerStep": ms, "fastestMs": fastest, "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas}))


if __name__ == "__main__":
    main(sys.argv[1])
