"""PyTorch CPU eager reference for `npm run bench:torch` (bench/torch.ts): a LoRA train step of LlamaForCausalLM as
transformers defines it (nn.Linear weights [out, in], rotate-half RoPE, eager attention with an additive causal mask,
RMSNorm, SwiGLU, untied head) plus PEFT's LoRA branch, in float32, on the weights and batch bench/torch.ts wrote,
with the same AdamW and clipping, on the CPU or (manifest "device": "cuda") an NVIDIA GPU; float(loss) at the end of
each step waits for the GPU, so the step times are whole. Plain tensors rather than transformers' modules, so no framework overhead is
counted against PyTorch. Prints one JSON line: losses of every step, ms per timed step (mean and fastest), every step's ms, threads,
the BLAS library PyTorch loaded. Usage: python3 bench/torch_step.py DIR (DIR holds manifest.json and tensors.bin)."""
import json
import sys
import time

import torch


def load(folder):
    manifest = json.load(open(f"{folder}/manifest.json"))
    raw = open(f"{folder}/tensors.bin", "rb").read()
    tensors = {}
    for t in manifest["tensors"]:
        dtype = torch.float32 if t["dtype"] == "float32" else torch.int32
        flat = torch.frombuffer(bytearray(raw[t["offset"]:t["offset"] + t["length"]]), dtype=dtype)
        tensors[t["name"]] = flat.reshape(t["dims"]).clone()
    return manifest, tensors


def main(folder: str) -> None:
    manifest, tensors = load(folder)
    c = manifest["config"]
    torch.set_num_threads(manifest["threads"])
    device = torch.device(manifest.get("device", "cpu"))
    # float32 throughout, as the graphs compute: no TF32 matrix products on an NVIDIA GPU.
    torch.backends.cuda.matmul.allow_tf32 = False
    tensors = {k: v.to(device) for k, v in tensors.items()}
    B, T = tensors["input_ids"].shape
    n_heads, n_kv, hd = c["heads"], c["kvHeads"], c["headDim"]
    eps = c["eps"]
    scale = manifest["loraScale"]
    params = {name: tensors[name].requires_grad_(True) for name in manifest["trainable"]}
    lora = {m["module"]: (params[m["keyA"]], params[m["keyB"]]) for m in manifest["lora"]}
    w = {k: v for k, v in tensors.items() if k not in params}
    ids = w["input_ids"].long()
    labels = w["labels"].long()
    # RoPE tables once per run (transformers recomputes them per forward; that costs microseconds either way).
    inv_freq = 1.0 / (c["ropeTheta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().float().to(device), emb.sin().float().to(device)
    causal = torch.triu(torch.full((T, T), torch.finfo(torch.float32).min), diagonal=1).to(device)

    def rms(x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(path, x):
        y = x @ w[path + ".weight"].t()
        if path in lora:
            a, b = lora[path]
            y = y + (x @ a.t()) @ b.t() * scale
        return y

    def rotate_half(x):
        return torch.cat((-x[..., hd // 2:], x[..., : hd // 2]), dim=-1)

    def forward():
        x = w["model.embed_tokens.weight"][ids]
        for i in range(c["layers"]):
            p = f"model.layers.{i}"
            h = rms(x, w[p + ".input_layernorm.weight"])
            q = linear(p + ".self_attn.q_proj", h).view(B, T, n_heads, hd).transpose(1, 2)
            k = linear(p + ".self_attn.k_proj", h).view(B, T, n_kv, hd).transpose(1, 2)
            v = linear(p + ".self_attn.v_proj", h).view(B, T, n_kv, hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            if n_kv != n_heads:
                k = k.repeat_interleave(n_heads // n_kv, dim=1)
                v = v.repeat_interleave(n_heads // n_kv, dim=1)
            scores = (q @ k.transpose(2, 3)) * hd ** -0.5 + causal
            attn = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, n_heads * hd)
            x = x + linear(p + ".self_attn.o_proj", attn)
            h = rms(x, w[p + ".post_attention_layernorm.weight"])
            gated = torch.nn.functional.silu(linear(p + ".mlp.gate_proj", h)) * linear(p + ".mlp.up_proj", h)
            x = x + linear(p + ".mlp.down_proj", gated)
        return rms(x, w["model.norm.weight"]) @ w["lm_head.weight"].t()

    opt = torch.optim.AdamW(list(params.values()), lr=manifest["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=manifest["weightDecay"])

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        logits = forward()
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), manifest["maxGradNorm"])
        opt.step()
        return float(loss)

    losses: list[float] = []
    step_ms: list[float] = []

    def timed() -> float:
        t = time.perf_counter()
        losses.append(step())
        ms = (time.perf_counter() - t) * 1000
        step_ms.append(round(ms, 1))
        return ms

    for _ in range(manifest["warmup"]):
        timed()
    start = time.perf_counter()
    fastest = min(timed() for _ in range(manifest["steps"]))
    ms = (time.perf_counter() - start) * 1000 / manifest["steps"]
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and line.split()[-1].startswith("/")})
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(json.dumps({"losses": losses, "msPerStep": ms, "fastestMs": fastest, "stepMs": step_ms, "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas, "device": name}))


if __name__ == "__main__":
    main(sys.argv[1])
