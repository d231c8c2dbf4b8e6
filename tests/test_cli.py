"""End-to-end tests of the command-line tools on a tiny config and the bundled TinyStories text.

Each command runs in a subprocess, as a user would run it. Bad input must exit with status 2,
print an error that names the value, and show no traceback.
"""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

TINY = ["model.d_model=16", "model.hidden_size=16", "train.batch_size=4", "train.block_size=16",
        "train.max_steps=6", "train.eval_interval=3", "train.eval_batches=1", "train.log_interval=3", "train.warmup_steps=2"]


def run(*args, ok=True):
    "Run a liquid_nbdev command; check its exit status (0 when `ok`, else 2) and return the result."
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=600)
    expected = 0 if ok else 2
    assert result.returncode == expected, f"{args} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    if not ok:
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("error: "), result.stderr
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = run("liquid-train", "--out", str(out), "--no_progress", "--overrides", *TINY)
    return out, result


def test_train_writes_run(trained):
    out, result = trained
    assert "val ppl" in result.stdout
    assert "best val ppl" in result.stdout
    for name in ("best/model.safetensors", "best/checkpoint.json", "last/optimizer.safetensors", "metrics.jsonl", "loss.png"):
        assert (out / name).is_file(), name
    info = json.loads((out / "last" / "checkpoint.json").read_text())
    assert info["step"] == 6
    assert info["val_loss"] < 10.9  # below ln(50257), the loss of uniform predictions


def test_train_resume_continues(trained, tmp_path):
    out, _ = trained
    run("liquid-train", "--out", str(out), "--resume", "--no_progress", "--overrides", *TINY, "train.max_steps=9")
    assert json.loads((out / "last" / "checkpoint.json").read_text())["step"] == 9


def test_generate_repeats_with_seed(trained):
    out, _ = trained
    args = ("liquid-generate", str(out / "best"), "Once upon a time", "--max_new_tokens", "8", "--seed", "0")
    first, second = run(*args), run(*args)
    assert first.stdout.startswith("Once upon a time")
    assert len(first.stdout) > len("Once upon a time\n")
    assert first.stdout == second.stdout


def test_generate_reports_end_of_text(trained, tmp_path):
    out, _ = trained
    from safetensors.torch import load_file, save_file
    ended = tmp_path / "ends_at_once"
    ended.mkdir()
    (ended / "checkpoint.json").write_text((out / "best" / "checkpoint.json").read_text())
    weights = load_file(out / "best" / "model.safetensors")
    eot = 50256
    tied = next(k for k in ("tok_emb.weight", "lm_head.weight") if k in weights)   # saved once, under either name
    # Make <|endoftext|> by far the most likely next token: a constant final-norm output along its embedding.
    weights[tied][eot] *= 100
    weights["ln_f.weight"].zero_()
    weights["ln_f.bias"].copy_(weights[tied][eot])
    save_file(weights, ended / "model.safetensors")
    result = run("liquid-generate", str(ended), "Once upon a time", "--max_new_tokens", "20", "--seed", "0")
    assert result.stdout == "Once upon a time\n"
    assert "stopped after 1 tokens at <|endoftext|>" in result.stderr, result.stderr


def test_generate_without_plasticity(trained):
    out, _ = trained
    result = run("liquid-generate", str(out / "best"), "The cat", "--max_new_tokens", "5", "--seed", "1", "--no_plasticity")
    assert result.stdout.startswith("The cat")


def test_plasticity_test_writes_json(trained, tmp_path):
    out, _ = trained
    path = tmp_path / "plasticity.json"
    result = run("liquid-plasticity-test", str(out / "best"), "--distractors", "0", "8", "--json_path", str(path))
    assert "traces only" in result.stdout
    data = json.loads(path.read_text())
    assert data["distractors"] == [0, 8]
    assert set(data["summary"]) == {"zephyr", "bloop"}
    assert len(data["facts"]) == 8


def test_missing_checkpoint_errors(tmp_path):
    for cmd in (("liquid-generate", str(tmp_path / "nope"), "Hi"), ("liquid-plasticity-test", str(tmp_path / "nope"))):
        result = run(*cmd, ok=False)
        assert "checkpoint not found" in result.stderr
        assert str(tmp_path / "nope") in result.stderr


def test_corrupt_checkpoint_errors(trained, tmp_path):
    out, _ = trained
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "checkpoint.json").write_text((out / "best" / "checkpoint.json").read_text())
    (broken / "model.safetensors").write_bytes(b"\x00" * 20)
    result = run("liquid-generate", str(broken), "Hi", ok=False)
    assert "is corrupt" in result.stderr
    (broken / "checkpoint.json").write_text("{not json")
    assert "is corrupt" in run("liquid-plasticity-test", str(broken), ok=False).stderr


def test_empty_prompt_errors(trained):
    out, _ = trained
    assert "empty prompt" in run("liquid-generate", str(out / "best"), "  ", ok=False).stderr


def test_bad_config_errors(tmp_path):
    result = run("liquid-train", "--out", str(tmp_path / "a"), "--overrides", "train.max_stepz=3", ok=False)
    assert "unknown train key(s) ['max_stepz']" in result.stderr
    result = run("liquid-train", "--config", "huge", "--out", str(tmp_path / "b"), ok=False)
    assert "config not found: 'huge'" in result.stderr


def test_missing_data_file_errors(tmp_path):
    missing = tmp_path / "missing.txt"
    result = run("liquid-train", "--out", str(tmp_path / "c"), "--overrides", f"train.data={missing}", ok=False)
    assert "data file not found" in result.stderr
    assert str(missing) in result.stderr


def test_empty_dataset_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run("liquid-train", "--out", str(tmp_path / "d"), "--overrides", f"train.data={empty}", ok=False)
    assert "is empty" in result.stderr


def test_train_on_local_text_file(tmp_path):
    text = tmp_path / "tales.txt"
    stories = [f"Story {i}. The little dog ran to the park and played with a red ball. Then it went home." for i in range(60)]
    text.write_text("\n\n".join(stories))
    result = run("liquid-train", "--out", str(tmp_path / "e"), "--no_progress", "--overrides", *TINY, f"train.data={text}")
    assert "best val ppl" in result.stdout


def test_eval_reports_both_modes(trained, tmp_path):
    out, _ = trained
    path, plot = tmp_path / "eval.json", tmp_path / "position.png"
    result = run("liquid-eval", str(out / "best"), "--max_docs", "3", "--json_path", str(path), "--plot_path", str(plot))
    assert "bpb" in result.stdout
    results = json.loads(path.read_text())["results"]
    assert len(results) == 2  # a liquid checkpoint is evaluated with plasticity on and off
    assert all(r["docs"] == 3 for r in results.values())
    assert plot.is_file()


def test_eval_unknown_split_errors(trained):
    out, _ = trained
    result = run("liquid-eval", str(out / "best"), "--split", "tset", ok=False)
    assert "split 'tset' not found" in result.stderr


def test_context_window_needs_transformer(trained):
    out, _ = trained
    result = run("liquid-plasticity-test", str(out / "best"), "--context_window", "8", ok=False)
    assert "applies to transformer checkpoints" in result.stderr


def test_transformer_runs_every_command(tmp_path):
    out = tmp_path / "gpt"
    run("liquid-train", "--config", "transformer_quick", "--out", str(out), "--no_progress", "--overrides",
        "model.d_model=16", "model.n_head=2", *TINY[2:])
    assert run("liquid-generate", str(out / "best"), "Once", "--max_new_tokens", "4", "--seed", "0").stdout.startswith("Once")
    table = run("liquid-plasticity-test", str(out / "best"), "--distractors", "0", "8", "--context_window", "4").stdout
    assert "bloop" in table
    assert "transformer" in run("liquid-eval", str(out / "best"), "--max_docs", "2").stdout


def test_bench_quick_prints_ratios(tmp_path):
    path = tmp_path / "bench.json"
    result = run("liquid-bench", "--quick", "--batch_size", "2", "--context", "16", "--json_path", str(path))
    assert "train tokens/s, fp32, 2 x 16" in result.stdout
    assert "one plastic update per token (ms)" in result.stdout
    data = json.loads(path.read_text())
    assert set(data["models"]) == {"liquid", "transformer"}


def test_sigterm_saves_last_checkpoint(tmp_path):
    out = tmp_path / "stopped"
    proc = subprocess.Popen(["liquid-train", "--out", str(out), "--no_progress", "--overrides", *TINY, "train.max_steps=100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "last" / "checkpoint.json").is_file() and time.time() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Continue with --resume" in stdout
    assert "Traceback" not in stderr
    step = json.loads((out / "last" / "checkpoint.json").read_text())["step"]
    assert step >= 3


def test_bad_eval_and_bench_options_error(trained):
    out, _ = trained
    cases = [
        (("liquid-eval", str(out / "best"), "--max_tokens", "0"), "--max_tokens must be at least 1, got 0"),
        (("liquid-eval", str(out / "best"), "--max_docs", "-5"), "--max_docs must be at least 1, got -5"),
        (("liquid-plasticity-test", str(out / "best"), "--distractors"), "no distractor lengths"),
        (("liquid-plasticity-test", str(out / "best"), "--distractors", "-5"), "(--distractors) must be >= 0, got -5"),
        (("liquid-bench", "--context", "0"), "--context must be at least 1, got 0"),
        (("liquid-bench", "--batch_size", "0"), "--batch_size must be at least 1, got 0"),
    ]
    for args, message in cases:
        assert message in run(*args, ok=False).stderr, args


def test_bundled_files_found_beside_clone(tmp_path):
    # A folder named like the package in the working directory (the clone's root, when Python runs from
    # the folder that contains the clone) shadows an editable install as a namespace package.
    (tmp_path / "liquid_nbdev").mkdir()
    code = "from liquid_nbdev.tokenizer import get_tokenizer; print(len(get_tokenizer().encode('Once upon a time')))"
    result = subprocess.run(["python", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"
