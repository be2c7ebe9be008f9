"""The GPT case study: model, data, determinism, divergence, batched sweep, warmup, fine-tuning, CLI."""

import math

import numpy as np
import pytest
import torch

from lrcourse.cases import gpt
from lrcourse.data import text

SMALL = text.stdlib().take(20_000, 2_000, 2_000)
TINY = {"data": SMALL, "steps": 8, "batch_size": 4, "context": 16, "width": 16, "layers": 2, "heads": 2}


def test_history_of_a_short_run():
    h = gpt.train(3e-3, seed=0, **TINY)
    assert h.loss.shape == (8,) and h.lrs.shape == (8,) and not h.diverged and h.diverged_at is None
    assert list(h.metric_steps) == [2, 4, 6, 8]
    assert h.metric_name == "validation bits per character" and h.final == h.metric[-1]
    assert h.loss[0] == pytest.approx(math.log(SMALL.vocab_size), rel=0.05)      # starts near a uniform guess
    assert h.metric[0] == pytest.approx(math.log2(SMALL.vocab_size), rel=0.05)
    assert h.config["optimizer"] == "adamw" and h.config["optimizer_kwargs"] == {"weight_decay": 0.1}
    model = h.model
    inputs, targets = gpt.windows(SMALL.valid, 16, gpt.EVAL_WINDOWS)
    with torch.no_grad():                                             # the History's model is the trained one
        assert gpt.bits_per_character(model, inputs, targets).item() == pytest.approx(h.final, rel=1e-5)


def test_config_is_the_preset_overridden_and_problem_builds_a_fresh_model():
    settings = gpt.config()
    assert settings.corpus.name == text.stdlib().name and settings.steps == gpt.PRESETS["stdlib"]["steps"]
    assert (settings.width, settings.layers, settings.heads, settings.norm) == (64, 2, 4, "pre")
    small = gpt.config(SMALL, steps=8, width=16, heads=2, norm="post")
    assert small.width == 16 and small.context == 64 and small.norm == "post" and small.start is None
    first, second = gpt.problem(0, small), gpt.problem(0, small)
    assert isinstance(first.model, gpt.GPT) and first.model is not second.model
    assert first.steps == 8 and first.eval_every == 2 and first.batchable
    assert first.config["width"] == 16 and "model" not in first.config
    with pytest.raises(ValueError, match="Invalid data: 30 training tokens"):
        gpt.config(text.stdlib().take(30, 2_000, 2_000), context=64)


def test_book_scale_default_learns():
    h = gpt.train(3e-3, seed=0, steps=60)
    assert h.config["width"] == 64 and h.config["layers"] == 2 and h.config["context"] == 64
    assert h.final < 0.7 * math.log2(text.stdlib().vocab_size) and not h.diverged


def test_same_seed_same_run_other_seed_differs():
    a = gpt.train(3e-3, seed=3, **TINY)
    b = gpt.train(3e-3, seed=3, **TINY)
    c = gpt.train(3e-3, seed=4, **TINY)
    assert np.array_equal(a.loss, b.loss) and a.final == b.final
    assert not np.array_equal(a.loss, c.loss)


def test_huge_lr_diverges_and_is_reported():
    h = gpt.train(30.0, seed=0, **TINY)
    assert h.diverged and 0 < h.diverged_at < 8
    assert len(h.loss) == h.diverged_at + 1 and h.diverged_loss == h.loss[-1]
    assert not math.isfinite(h.diverged_loss) or h.diverged_loss > 10 * math.log(SMALL.vocab_size)


def test_batched_sweep_equals_runs_one_by_one():
    lrs = (1e-3, 1e-2, 30.0)
    batched = gpt.sweep(lrs, seeds=(0, 1), **TINY)
    one_by_one = gpt.sweep(lrs, seeds=(0, 1), batched=False, **TINY)
    assert batched.batched and not one_by_one.batched
    for key, a in batched.histories.items():
        b = one_by_one.histories[key]
        alone = gpt.train(key[0], seed=key[1], **TINY)
        np.testing.assert_array_equal(b.loss, alone.loss)
        np.testing.assert_allclose(a.loss, b.loss, rtol=1e-4, err_msg=str(key))
        np.testing.assert_allclose(a.metric, b.metric, rtol=1e-4, err_msg=str(key))
        assert a.diverged_at == b.diverged_at
    assert batched[30.0, 0].diverged and not batched[1e-2, 0].diverged


def test_warmup_is_linear_then_constant_and_the_sweep_uses_it():
    h = gpt.train(1e-2, warmup_steps=3, **TINY)
    np.testing.assert_allclose(h.lrs, [0.25e-2, 0.5e-2, 0.75e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2])
    s = gpt.sweep([1e-2], seeds=(0,), warmup_steps=3, **TINY)
    np.testing.assert_allclose(s[1e-2, 0].lrs, h.lrs)
    np.testing.assert_allclose(s[1e-2, 0].loss, h.loss, rtol=1e-4)


def test_record_logs_gradient_and_update_norms():
    """At step 0 Adam moves every weight with a gradient by α (m̂/√v̂ = ±1), so ‖Δθ‖ ≤ α·√(number of
    weights), and close to it: only the embedding rows of characters absent from the batch stay put."""
    h = gpt.train(1e-3, record=True, weight_decay=0.0, **TINY)
    n = sum(p.numel() for p in h.model.parameters())
    grad_norm, update_norm = h.logs["grad_norm"], h.logs["update_norm"]
    assert grad_norm.shape == update_norm.shape == (8,) and math.isnan(grad_norm[0])
    assert np.all(grad_norm[1:] > 0)
    assert 0.8 < update_norm[1] / (1e-3 * math.sqrt(n)) <= 1.0


def test_pre_and_post_layer_norm_are_built_as_named():
    pre = gpt.GPT(10, context=8, width=8, layers=1, heads=2, norm="pre")
    post = gpt.GPT(10, context=8, width=8, layers=1, heads=2, norm="post")
    assert isinstance(pre.ln_f, torch.nn.LayerNorm) and isinstance(post.ln_f, torch.nn.Identity)
    x = torch.randn(2, 5, 8)
    block = post.blocks[0]
    with torch.no_grad():
        out = block(x)
        expected = block.ln_2(block.ln_1(x + block.attention(x)) + block.mlp(block.ln_1(x + block.attention(x))))
        assert torch.allclose(out, expected, atol=1e-6)
        assert torch.allclose(out.mean(-1), torch.zeros(2, 5), atol=1e-5)        # a Post-LN block ends normalized
        pre_block = pre.blocks[0]
        h = x + pre_block.attention(pre_block.ln_1(x))
        assert torch.allclose(pre_block(x), h + pre_block.mlp(pre_block.ln_2(h)), atol=1e-6)


def test_attention_is_causal():
    torch.manual_seed(0)
    model = gpt.GPT(10, context=8, width=8, layers=2, heads=2)
    x = torch.randint(0, 10, (1, 8))
    changed = x.clone()
    changed[0, 5] = (x[0, 5] + 1) % 10
    with torch.no_grad():
        a, b = model(x), model(changed)
    assert torch.allclose(a[0, :5], b[0, :5]) and not torch.allclose(a[0, 5:], b[0, 5:])


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Invalid learning rate: -1.0"),
    ({"lr": 1e-3, "norm": "middle"}, "Invalid norm: 'middle'"),
    ({"lr": 1e-3, "heads": 3}, "Invalid heads value: 3"),
    ({"lr": 1e-3, "steps": 0}, "Invalid steps value: 0"),
    ({"lr": 1e-3, "warmup_steps": -2}, "Invalid warmup_steps value: -2"),
    ({"lr": 1e-3, "warmup_steps": 100}, "Invalid warmup_steps value: 100"),
    ({"lr": 1e-3, "weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ({"lr": 1e-3, "data": "shakespeare"}, "Invalid data: 'shakespeare'"),
    ({"lr": 1e-3, "optimizer": "nope"}, "Invalid optimizer: 'nope'"),
    ({"lr": 1e-3, "seed": -1}, "Invalid seed: -1"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    options = {**TINY, **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        gpt.train(**options)


def test_range_test_default_range_brackets_the_usable_lr():
    r = gpt.lr_range_test()                                         # the default model: 100 steps, ~4 s
    assert r.lrs[0] == pytest.approx(1e-5)
    assert 1e-5 < r.suggestion < 1.0
    assert r.losses[-1] > r.losses.min() + 0.1                      # the curve rises again: its bottom is inside


@pytest.fixture(scope="module")
def pretrained():
    return gpt.pretrain(0, lr=3e-3, steps=20, **{k: v for k, v in TINY.items() if k != "steps"}).model


def test_layer_scales():
    np.testing.assert_allclose(gpt.layer_scales(2, 0.5), [0.125, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(gpt.layer_scales(3, 1.0), np.ones(5))
    with pytest.raises(ValueError, match="Invalid layer_decay value: 1.5"):
        gpt.layer_scales(2, 1.5)
    with pytest.raises(ValueError, match="Invalid layer_decay value: 0"):
        gpt.layer_scales(2, 0.0)


def test_layer_wise_decay_gives_each_layer_its_alpha(pretrained):
    """Adam's first step moves each weight by α_layer·g/(|g| + ε): about α_layer where g is not tiny."""
    lr, decay = 1e-3, 0.5
    h = gpt.finetune(pretrained, lr, layer_decay=decay, steps=1, batch_size=4)
    scales = gpt.layer_scales(len(pretrained.blocks), decay)
    for depth, (before, after) in enumerate(zip(pretrained.layer_groups(), h.model.layer_groups())):
        moved = torch.cat([(a - b).abs().flatten() for mb, ma in zip(before, after)
                           for b, a in zip(mb.parameters(), ma.parameters())])
        assert moved.max().item() == pytest.approx(lr * scales[depth], rel=1e-3), depth
    plain = gpt.finetune(pretrained, lr, steps=1, batch_size=4)
    assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in h.model.modules())
    assert all(p.requires_grad for p in h.model.parameters())
    assert h.loss[0] == plain.loss[0]                       # same starting model and batch


def test_freezing_freezes_the_lowest_layers_and_not_the_others(pretrained):
    h = gpt.finetune(pretrained, 1e-3, freeze=2, steps=3, batch_size=4)
    groups_before, groups_after = pretrained.layer_groups(), h.model.layer_groups()
    for depth, (before, after) in enumerate(zip(groups_before, groups_after)):
        same = all(torch.equal(b, a) for mb, ma in zip(before, after)
                   for b, a in zip(mb.parameters(), ma.parameters()))
        assert same == (depth < 2), depth
    with pytest.raises(ValueError, match="Invalid freeze value: 4"):
        gpt.finetune(pretrained, 1e-3, freeze=4, steps=1)


def test_finetune_measures_the_new_task_and_the_forgetting_without_touching_the_model(pretrained):
    state = {k: v.clone() for k, v in pretrained.state_dict().items()}
    h = gpt.finetune(pretrained, 3e-3, steps=8, batch_size=4)
    assert all(torch.equal(v, pretrained.state_dict()[k]) for k, v in state.items())
    assert h.config["old_after"] != h.config["old_before"] and h.config["freeze"] == 0
    assert h.metric_name == "validation bits per character" and h.metric[-1] < h.metric[0]
    assert h.config["corpus"].name == "stdlib source"
    with pytest.raises(ValueError, match="Invalid model"):
        gpt.finetune(torch.nn.Linear(2, 2), 1e-3)
    with pytest.raises(ValueError, match="Invalid optimizer: 'sgd'"):
        gpt.finetune(pretrained, 1e-3, layer_decay=0.5, optimizer="sgd")


def test_source_corpus_is_python_in_the_documentation_vocabulary():
    corpus = gpt.source_corpus(SMALL.vocab)
    assert corpus.vocab == SMALL.vocab and len(corpus.train) > 100_000
    source = corpus.decode(corpus.train[:20_000])
    assert "def " in source and "return " in source and "import " in source


def test_command_line(capsys):
    assert gpt.main(["--lrs", "1e-3,30", "--steps", "4", "--width", "16", "--layers", "1"]) == 0
    out = capsys.readouterr().out
    assert "validation bits per character" in out and "best α: 0.001" in out
    assert gpt.main(["--lrs", "1e-3,-1", "--steps", "1"]) == 2
    assert gpt.main(["--lrs", "1e-3", "--steps", "1", "--norm", "post", "--warmup-steps", "5"]) == 2


def test_command_line_through_the_cases_entry_point(capsys):
    from lrcourse.cases.__main__ import CASES, main
    assert "gpt" in CASES
    assert main(["gpt", "--lrs", "1e-3", "--steps", "2", "--width", "16", "--layers", "1", "--norm", "post"]) == 0
    out = capsys.readouterr().out
    assert "post-LN GPT, 1 × 16, 2 steps, adamw, warmup 0" in out and "best α: 0.001" in out
    assert main(["gpt", "--lrs", "1e-3", "--steps", "0"]) == 2
