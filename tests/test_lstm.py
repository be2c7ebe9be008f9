"""The LSTM case study: TBPTT, perplexity, divergence and clipping, sweeps, samples, context probe, CLI."""

import math

import numpy as np
import pytest
import torch

from lrcourse import engine
from lrcourse.data import text
from lrcourse.cases import lstm

SMALL = text.stdlib().take(8_000, 1_600, 1_600)       # 16 streams of 500 characters: 15 windows of 32
FAST = dict(data=SMALL, steps=10, hidden_size=16, embedding_dim=8)


def test_history_of_a_short_run():
    h = lstm.train(1.0, seed=0, **FAST)
    assert h.loss.shape == (10,) and h.lrs.shape == (10,) and not h.diverged
    assert list(h.metric_steps) == [2, 4, 6, 8, 10]                 # 5 evaluations
    assert np.allclose(h.metric_epochs, np.array([2, 4, 6, 8, 10]) / 15)
    assert h.metric_name == "validation perplexity" and h.final == h.metric[-1]
    assert 1 < h.final < 2 * SMALL.vocab_size
    assert h.loss[0] == pytest.approx(math.log(SMALL.vocab_size), rel=0.1)   # starts near a uniform guess
    config = h.config
    assert (config["case"], config["bptt"], config["batch_size"], config["hidden_size"]) == ("lstm", 32, 16, 16)
    assert isinstance(h.model, lstm.LanguageModel) and "model" not in config and config["corpus"] is SMALL
    with torch.no_grad():                                           # the model in the History is the trained one
        assert lstm.perplexity(h.model, SMALL.valid).item() == pytest.approx(h.final, rel=1e-5)


def test_book_scale_default_learns_and_a_low_lr_lags():
    """The chapter's claims: 200 steps of plain SGD at a good α beat the unigram baseline by far;
    a 100× smaller α is much worse after the same budget."""
    good = lstm.train(10.0, seed=0)
    assert good.steps == 200 and good.config["hidden_size"] == 64 and not good.diverged
    baseline = text.stdlib().unigram_perplexity()
    assert good.final < baseline / 3, (good.final, baseline)
    low = lstm.train(0.1, seed=0)
    assert low.final > 2 * good.final


def test_huge_lr_diverges_and_its_perplexity_is_inf():
    h = lstm.train(100.0, seed=0, **FAST)
    assert h.diverged and 0 < h.diverged_at < 10
    assert len(h.loss) == h.diverged_at + 1 and h.diverged_loss == h.loss[-1]
    assert not math.isfinite(h.diverged_loss) or h.diverged_loss > 10 * math.log(SMALL.vocab_size)
    assert h.metric[-1] == math.inf and math.isnan(h.final)


def test_clipping_bounds_each_step():
    """With clip_norm c every SGD step moves the weights by at most α·c, so even α = 100 cannot blow up."""
    free = lstm.train(100.0, seed=0, **FAST)
    clipped = lstm.train(100.0, seed=0, clip_norm=1e-3, **FAST)
    assert free.diverged and not clipped.diverged and math.isfinite(clipped.final)
    assert clipped.config["clip_norm"] == 1e-3
    after = lstm.train(100.0, seed=0, clip_norm=1e-3, **{**FAST, "steps": 1}).model
    with engine.repeatable(0):                                         # the same initial weights as seed 0
        start = lstm.problem(0, lstm.Config(SMALL, 1, 16, 32, 8, 16, 1, 1)).model
    moved = torch.linalg.vector_norm(torch.cat([(a - b).flatten() for a, b in
                                                zip(after.parameters(), start.parameters())]))
    assert 0 < moved.item() <= 100.0 * 1e-3 * (1 + 1e-4)


def test_state_is_carried_and_detached_between_windows():
    with engine.repeatable(0):
        p = lstm.problem(0, lstm.Config(SMALL, 20, 16, 32, 8, 16, 1, 5))
    batches = iter(p.batches)
    first = next(batches)
    x0, y0 = first
    assert x0.shape == (16, 32) and torch.equal(x0[:, 1:], y0[:, :-1])
    stream = lstm.streams(SMALL.train, 16)
    assert torch.equal(x0, stream[:, :32])
    p.loss(p.model, first)
    second = next(batches)
    assert torch.equal(second[0], stream[:, 32:64])                  # the next window of each stream
    carried = p.loss(p.model, second)
    with torch.no_grad():
        fresh, _ = p.model(second[0])
    assert carried.item() != pytest.approx(lstm.cross_entropy(fresh, second[1]).item(), abs=1e-6)
    carried.backward()                                               # only this window's graph: no error, no reach-back
    for _ in range(13):                                              # 15 windows per epoch
        next(batches)
    wrapped = next(batches)                                          # a new epoch: back to the start, zero state
    assert torch.equal(wrapped[0], stream[:, :32])
    again = p.loss(p.model, wrapped)
    with torch.no_grad():
        logits, _ = p.model(wrapped[0])
    assert again.item() == pytest.approx(lstm.cross_entropy(logits, wrapped[1]).item(), rel=1e-6)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    model = lstm.LanguageModel(SMALL.vocab_size, 8, 16)
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
        assert lstm.perplexity(model, SMALL.valid).item() == pytest.approx(SMALL.vocab_size, rel=1e-5)


def test_perplexity_reads_the_text_in_chunks_with_the_state_carried():
    torch.manual_seed(0)
    model = lstm.LanguageModel(SMALL.vocab_size, 8, 16)
    with torch.no_grad():
        whole = lstm.perplexity(model, SMALL.valid, chunk=10_000)
        chunked = lstm.perplexity(model, SMALL.valid, chunk=7)
        text_ = lstm.streams(SMALL.valid, lstm.EVAL_STREAMS)
        logits, _ = model(text_[:, :-1])
        direct = torch.exp(lstm.cross_entropy(logits, text_[:, 1:]))
    assert chunked.item() == pytest.approx(whole.item(), rel=1e-5) == pytest.approx(direct.item(), rel=1e-5)


def test_streams_are_contiguous_rows():
    s = lstm.streams(np.arange(23), 4)
    assert s.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]


def test_same_seed_same_run_other_seed_differs():
    a = lstm.train(2.0, seed=3, **FAST)
    b = lstm.train(2.0, seed=3, **FAST)
    c = lstm.train(2.0, seed=4, **FAST)
    assert np.array_equal(a.loss, b.loss) and a.final == b.final
    assert not np.array_equal(a.loss, c.loss)


def test_sweep_equals_the_runs_one_by_one():
    lrs = (1.0, 100.0)
    s = lstm.sweep(lrs, seeds=(0, 1), **FAST)
    assert not s.batched and s.metric_name == "validation perplexity" and not s.maximize
    for (lr, seed), h in s.histories.items():
        alone = lstm.train(lr, seed=seed, **FAST)
        assert np.array_equal(h.loss, alone.loss) and np.array_equal(h.metric, alone.metric), (lr, seed)
    assert s[100.0, 0].diverged and s[100.0, 1].diverged and s[100.0, 0].metric[-1] == math.inf
    assert s.best() == 1.0
    table = s.table()
    assert "validation perplexity" in table and "2/2" in table and "inf" not in table.split("\n")[1]


def test_sweep_in_two_processes_gives_the_same_runs():
    one_by_one = lstm.sweep((1.0, 100.0), seeds=(0, 1), **FAST)
    forked = lstm.sweep((1.0, 100.0), seeds=(0, 1), workers=2, **FAST)
    assert list(forked.histories) == list(one_by_one.histories)
    for key, a in one_by_one.histories.items():
        b = forked.histories[key]
        assert np.array_equal(a.loss, b.loss) and np.array_equal(a.metric, b.metric), key
        assert b.model is not a.model and b.config["corpus"].name == a.config["corpus"].name
    with pytest.raises(ValueError, match="Invalid workers value: 0"):
        lstm.sweep((1.0,), workers=0, **FAST)


def test_other_optimizers_and_word_level():
    h = lstm.train(3e-3, seed=0, optimizer="adam", **FAST)
    assert h.config["optimizer"] == "adam" and not h.diverged
    words = text.stdlib("word").take(4_000, 800, 800)
    w = lstm.train(1.0, seed=0, data=words, steps=4, hidden_size=16, embedding_dim=8)
    assert w.config["level"] == "word" and w.config["bptt"] == 35 and w.config["num_layers"] == 2


def test_sample_is_repeatable_and_uses_the_vocabulary():
    model = lstm.train(5.0, seed=0, **FAST).model
    a = lstm.sample(model, SMALL, "The ", 60, seed=1)
    b = lstm.sample(model, SMALL, "The ", 60, seed=1)
    c = lstm.sample(model, SMALL, "The ", 60, seed=2)
    assert a == b and a != c and len(a) == 60 and set(a) <= set(SMALL.vocab)
    assert model.training                                            # left as it was
    cold = lstm.sample(model, SMALL, "The ", 200, temperature=0.05, seed=1)
    hot = lstm.sample(model, SMALL, "The ", 200, temperature=5.0, seed=1)
    assert len(set(cold)) < len(set(hot))                            # a low temperature keeps to likely tokens


class LagModel(torch.nn.Module):
    """Predicts that token t+1 equals the token ``lag`` places before token t: uses exactly lag+1 tokens."""

    def __init__(self, vocab_size, lag):
        super().__init__()
        self.vocab_size, self.lag = vocab_size, lag

    def forward(self, x, state=None):
        source = torch.roll(x, self.lag, dims=1)
        return 5.0 * torch.nn.functional.one_hot(source, self.vocab_size).float(), state


def test_context_loss_sees_exactly_how_far_back_a_model_looks():
    ids = SMALL.valid
    lag = LagModel(SMALL.vocab_size, 3)                      # uses the token 4 back from the predicted one
    losses = lstm.context_loss(lag, ids, distances=(1, 2, 3, 4, 8), context=16, block=4, windows=64)
    assert losses.shape == (6,)
    assert np.all(losses[:3] != losses[-1])                  # d < 4: the token it needs is replaced
    assert np.all(losses[3:] == losses[-1])                  # d ≥ 4: everything it reads is real
    local = LagModel(SMALL.vocab_size, 0)
    assert np.ptp(lstm.context_loss(local, ids, context=64, windows=32)) == 0
    model = lstm.LanguageModel(SMALL.vocab_size, 8, 16)
    first = lstm.context_loss(model, ids, context=64, windows=32, seed=5)
    assert np.array_equal(first, lstm.context_loss(model, ids, context=64, windows=32, seed=5))


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(lr=0.0), "Invalid learning rate: 0.0"),
    (dict(lr=math.nan), "Invalid learning rate: nan"),
    (dict(), "Invalid learning rate: None"),
    (dict(lr=1.0, steps=0), "Invalid steps value: 0"),
    (dict(lr=1.0, steps=2.5), "Invalid steps value: 2.5"),
    (dict(lr=1.0, epochs=0, steps=None), "Invalid epochs value: 0"),
    (dict(lr=1.0, epochs=1), "Invalid steps value: 10 together with epochs=1"),
    (dict(lr=1.0, batch_size=0), "Invalid batch_size value: 0"),
    (dict(lr=1.0, batch_size=1000), "Invalid batch_size value: 1000"),
    (dict(lr=1.0, bptt=0), "Invalid bptt value: 0"),
    (dict(lr=1.0, hidden_size=0), "Invalid hidden_size value: 0"),
    (dict(lr=1.0, num_layers=-1), "Invalid num_layers value: -1"),
    (dict(lr=1.0, clip_norm=-1.0), "Invalid clip_norm value: -1.0"),
    (dict(lr=1.0, optimizer="sgdm"), "Invalid optimizer: 'sgdm'"),
    (dict(lr=1.0, momentum=-0.5), "Invalid momentum value: -0.5"),
    (dict(lr=1.0, data="wikitext"), "Invalid data: 'wikitext'"),
    (dict(lr=1.0, level="bytes"), "Invalid level: 'bytes'"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lstm.train(**{**FAST, **kwargs})


def test_bad_sample_and_probe_input():
    model = lstm.LanguageModel(SMALL.vocab_size, 8, 16)
    with pytest.raises(ValueError, match="Invalid temperature: 0"):
        lstm.sample(model, SMALL, "The ", temperature=0)
    with pytest.raises(ValueError, match="Invalid length value: 0"):
        lstm.sample(model, SMALL, "The ", 0)
    with pytest.raises(ValueError, match="Invalid prompt: ''"):
        lstm.sample(model, SMALL, "")
    with pytest.raises(ValueError, match="Invalid distances"):
        lstm.context_loss(model, SMALL.valid, distances=(4, 200), context=128)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        lstm.sweep([1.0, -1], **FAST)


def test_model_shapes():
    model = lstm.LanguageModel(50, 8, 16, num_layers=2)
    logits, (h, c) = model(torch.zeros(3, 7, dtype=torch.int64))
    assert logits.shape == (3, 7, 50) and h.shape == c.shape == (2, 3, 16)


@pytest.fixture
def tiny_ptb(tmp_path, monkeypatch):
    folder = tmp_path / "ptb"
    folder.mkdir()
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)] + ["<unk>"]
    for name, lines in (("ptb.train.txt", 400), ("ptb.valid.txt", 60), ("ptb.test.txt", 60)):
        text_ = "\n".join(" " + " ".join(rng.choice(words, rng.integers(3, 12))) + " " for _ in range(lines))
        (folder / name).write_text(text_ + "\n")
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    return folder


def test_train_on_ptb_files(tiny_ptb):
    h = lstm.train(1.0, seed=0, data="ptb", epochs=1, hidden_size=16, embedding_dim=8, num_layers=1)
    assert h.config["data"] == "ptb" and h.config["level"] == "word" and h.config["bptt"] == 35
    windows = (len(text.load("ptb").train) // 20 - 1) // 35
    assert h.steps == windows and list(h.metric_steps) == [windows]


def test_command_line(capsys):
    assert lstm.main(["--lrs", "1,100", "--steps", "20", "--sample", "30"]) == 0
    out = capsys.readouterr().out
    assert "stdlib: 20 steps of 16 × 32 tokens" in out and "unigram baseline: validation perplexity 32.1" in out
    assert "1/1" in out and "best α: 1 " in out and "sample at α = 1, seed 0" in out


def test_command_line_ptb(tiny_ptb, capsys):
    assert lstm.main(["--data", "ptb", "--lrs", "1,3", "--epochs", "1", "--hidden-size", "16", "--layers", "1",
                      "--embedding-dim", "8", "--clip-norm", "5", "--opt", "momentum=0.5"]) == 0
    out = capsys.readouterr().out
    assert "ptb: " in out and "sgd {'momentum': 0.5}, clip_norm 5" in out and "best α" in out


def test_command_line_errors(monkeypatch, capsys):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    assert lstm.main(["--data", "ptb", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "LRCOURSE_DATA" in err and "ptb.train.txt" in err
    assert lstm.main(["--lrs", "1,-1", "--steps", "1"]) == 2
    assert "Invalid learning rate: -1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lstm.main(["--lrs", "fast"])
    with pytest.raises(SystemExit):
        lstm.main(["--steps", "3", "--epochs", "1"])


# --------------------------------------------------------------------------- the recall task (a known long dependency)

def test_recall_sequences_hide_the_answer_in_the_first_token_only():
    inputs, answers = lstm.recall_sequences(200, 5, torch.Generator().manual_seed(0))
    k = lstm.RECALL_SYMBOLS
    assert inputs.shape == (200, 7) and answers.shape == (200,)
    assert torch.equal(inputs[:, 0], answers) and answers.min() >= 0 and answers.max() < k
    filler = inputs[:, 1:-1]
    assert filler.min() >= k and filler.max() < 2 * k              # no filler token is a symbol
    assert torch.all(inputs[:, -1] == 2 * k)                        # the query
    assert len(answers.unique()) == k and len(filler.unique()) == k
    again, _ = lstm.recall_sequences(200, 5, torch.Generator().manual_seed(0))
    assert torch.equal(inputs, again)


def test_the_recall_gradient_reaches_the_first_token():
    """No truncation: the loss at the query has a gradient through the whole delay."""
    model = lstm.LanguageModel(2 * lstm.RECALL_SYMBOLS + 1, 8, 16)
    inputs, answers = lstm.recall_sequences(64, 12, torch.Generator().manual_seed(1))
    logits, _ = model(inputs)
    torch.nn.functional.cross_entropy(logits[:, -1], answers).backward()
    symbol_rows = model.embedding.weight.grad[:lstm.RECALL_SYMBOLS]  # those tokens occur only at position 0
    assert torch.all(symbol_rows.abs().sum(1) > 0)


def test_recall_is_learned_at_a_good_lr_and_not_at_a_tiny_one():
    good = lstm.recall(1.0, seed=0, delay=2, steps=400, hidden_size=16)
    assert good.metric_name == "recall accuracy" and good.config["delay"] == 2
    assert list(good.metric_steps[:2]) == [50, 100] and good.final > 0.95
    step = lstm.steps_to_recall(good)
    assert step is not None and good.metric[list(good.metric_steps).index(step)] >= 0.95
    assert lstm.steps_to_recall(good, target=1.0) in (None, *good.metric_steps)
    tiny = lstm.recall(1e-3, seed=0, delay=2, steps=100, hidden_size=16)
    assert lstm.steps_to_recall(tiny) is None and tiny.final < 0.5  # chance is 0.25
    assert lstm.recall(1.0, seed=0, delay=2, steps=100, hidden_size=16).loss.tolist() == good.loss[:100].tolist()


def test_recall_table_reports_steps_budget_and_divergence():
    s = lstm.recall_sweep([1.0, 1e-3, 1e3], seeds=(0,), delay=2, steps=300, hidden_size=16)
    assert s.metric_name == "recall accuracy" and s[1e3, 0].diverged
    rows = lstm.recall_table(s).splitlines()
    assert rows[0].startswith("delay 2, 300 steps") and len(rows) == 5
    assert rows[2].split()[1] == str(lstm.steps_to_recall(s[1.0, 0]))
    assert rows[3].split()[1] == "–" and rows[4].split()[1:3] == ["✕", str(s[1e3, 0].diverged_at)]


@pytest.mark.parametrize("call, message", [
    (lambda: lstm.recall(1.0, delay=0, steps=10), "Invalid delay value: 0"),
    (lambda: lstm.recall(1.0, steps=0), "Invalid steps value: 0"),
    (lambda: lstm.recall(-1.0, steps=10), "Invalid learning rate: -1.0"),
    (lambda: lstm.recall_sweep([1.0], batch_size=0, steps=10), "Invalid batch_size value: 0"),
    (lambda: lstm.steps_to_recall(lstm.recall(1.0, delay=1, steps=2), target=1.5), "Invalid target value: 1.5"),
])
def test_recall_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
