"""Planting hooks in a cell's tree: same values, same evaluation order, same line numbers.

The sites here are built by hand in the Site shape the analysis produces (kind + the positions of
the ast.Call), so the rewriting is checked on its own; tests/e2e checks it with the real analysis.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import dataclasses
import traceback

import pytest

from flock_nbext.kernel.instrument import HOOKS_NAME, RECEIVER, instrument


@dataclasses.dataclass
class Site:
    kind: str
    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int
    ref: str = "x"
    models: tuple = ()
    function: str = ""
    var: str | None = None


def sites_for(source: str, kinds: dict[str, str]) -> list[Site]:
    """A site for every call whose function text (`clf.fit`, `score`) is named in `kinds`."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in kinds:
            out.append(Site(kinds[ast.unparse(node.func)], node.lineno, node.col_offset, node.end_lineno,
                            node.end_col_offset, function=ast.unparse(node.func)))
    return out


class Recorder:
    """A hooks object that logs what it is handed and returns values unchanged."""

    def __init__(self):
        self.events = []

    def a(self, site_id, key, value):
        self.events.append(("a", site_id, key, value))
        return value

    def _result(self, kind, site_id, value):
        self.events.append((kind, site_id, value))
        return value

    def fit(self, site_id, value):
        return self._result("fit", site_id, value)

    def metric(self, site_id, value):
        return self._result("metric", site_id, value)

    def read(self, site_id, value):
        return self._result("read", site_id, value)

    def sql(self, site_id, value):
        return self._result("sql", site_id, value)


PRELUDE = '''
calls = []
class Model:
    def fit(self, X, y=None, **kw):
        calls.append(("fit", X, y, kw))
        return self
def score(a, b, average=None):
    calls.append(("score", a, b, average))
    return 0.5
def trace(v):
    calls.append(("arg", v))
    return v
'''


def shape(calls):
    """Calls with model objects replaced by their class name (two runs make different objects)."""
    def plain(v):
        return type(v).__name__ if hasattr(v, "fit") else v
    return [tuple(plain(v) for v in call) for call in calls]


def run(source: str, kinds: dict[str, str], instrumented: bool):
    tree = ast.parse(PRELUDE + source)
    planted = []
    if instrumented:
        tree, planted = instrument(tree, sites_for(PRELUDE + source, kinds), 1)
        ast.fix_missing_locations(tree)
    hooks = Recorder()
    ns = {HOOKS_NAME: hooks}
    exec(compile(tree, "<cell>", "exec"), ns)
    return ns, hooks, planted


def test_fit_and_metric_see_live_operands_and_results_with_values_unchanged():
    src = "clf = Model()\nr = clf.fit(trace(1), y=trace(2), epochs=3)\ns = score(trace(3), trace(4), average='macro')\n"
    plain, _, _ = run(src, {}, False)
    ns, hooks, planted = run(src, {"clf.fit": "fit", "score": "metric"}, True)
    assert shape(ns["calls"]) == shape(plain["calls"])  # same calls in the same order, each argument once
    assert ns["r"] is ns["clf"] and ns["s"] == 0.5
    fit_id = next(p.id for p in planted if p.kind == "fit")
    operands = {e[2]: e[3] for e in hooks.events if e[0] == "a" and e[1] == fit_id}
    assert operands == {RECEIVER: ns["clf"], 0: 1, "y": 2, "epochs": 3}
    metric = next(p for p in planted if p.kind == "metric")
    assert metric.literal_kwargs == {"average": "macro"}
    assert ("metric", metric.id, 0.5) in hooks.events


def test_evaluation_order_is_unchanged_receiver_first_then_arguments():
    src = "r = trace(Model()).fit(trace('X'), trace('y'))\n"
    plain, _, _ = run(src, {}, False)
    ns, _, planted = run(src, {"trace(Model()).fit": "fit"}, True)
    assert planted and shape(ns["calls"]) == shape(plain["calls"])


def test_user_exception_keeps_its_line_number_and_no_hook_frames():
    src = "clf = Model()\n\n\nclf.fit(1, 2, 3, 4)\n"
    lines = []
    for instrumented in (False, True):
        with pytest.raises(TypeError) as info:
            run(src, {"clf.fit": "fit"}, instrumented)
        frames = traceback.extract_tb(info.value.__traceback__)
        cell_frames = [f for f in frames if f.filename == "<cell>"]
        lines.append([(f.lineno, f.colno, f.end_colno) for f in cell_frames])
    assert lines[0] == lines[1]


@pytest.mark.parametrize("src", [
    # walrus inside the call, comprehension scope, generator argument, starred args, class body
    "clf = Model()\nclf.fit((n := 5), y=[i for i in range(n)])\nresult = n\n",
    "clf = Model()\nclf.fit(sum(i for i in range(4)))\nresult = calls[-1][1]\n",
    "clf = Model()\nargs = (1, 2)\nclf.fit(*args, z=1)\nresult = calls[-1]\n",
    "class Box:\n    m = Model()\n    m.fit(1)\n    x = score(1, 2)\nresult = Box.x\n",
    "def gen():\n    m = Model()\n    yield m.fit((yield 1))\ng = gen(); next(g)\nresult = g.send(7) is not None and calls[-1][1]\n",
    "counter = 0\ndef bump():\n    global counter\n    counter += 1\n    return Model().fit(counter)\nbump(); bump()\nresult = counter\n",
    "def outer():\n    k = 0\n    def inner():\n        nonlocal k\n        k += 1\n        return score(k, k)\n    inner()\n    return k\nresult = outer()\n",
    "match score(1, 2):\n    case 0.5:\n        result = 'half'\n    case _:\n        result = 'other'\n",
    "f = lambda m: m.fit(1)\nresult = f(Model()) is not None\n",
    "class Sub(Model):\n    def fit(self, X, y=None, **kw):\n        return super().fit(X, y)\nresult = Sub().fit(1) is not None\n",
])
def test_python_semantics_are_preserved(src):
    kinds = {"clf.fit": "fit", "m.fit": "fit", "Model().fit": "fit", "score": "metric", "super().fit": "fit"}
    plain, _, _ = run(src, {}, False)
    ns, _, planted = run(src, kinds, True)
    assert planted, "the test should plant at least one hook"
    assert ns["result"] == plain["result"]
    assert shape(ns["calls"]) == shape(plain["calls"])


def test_top_level_await_still_compiles_and_runs():
    src = "import asyncio\nasync def load():\n    return 3\nclf = Model()\nclf.fit(await load())\n"
    tree = ast.parse(PRELUDE + src)
    tree, planted = instrument(tree, sites_for(PRELUDE + src, {"clf.fit": "fit"}), 1)
    ast.fix_missing_locations(tree)
    code = compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    hooks = Recorder()
    ns = {HOOKS_NAME: hooks}
    result = eval(code, ns)
    if asyncio.iscoroutine(result):
        # a fresh thread: its own event loop whatever state earlier in-process tests left behind
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, result).result()
    assert ns["calls"][-1][1] == 3 and planted


def test_sites_that_match_no_call_are_skipped_and_ids_continue_from_next_id():
    src = "clf = Model()\nclf.fit(1)\n"
    sites = sites_for(PRELUDE + src, {"clf.fit": "fit"}) + [Site("fit", 999, 0, 999, 5)]
    tree, planted = instrument(ast.parse(PRELUDE + src), sites, 41)
    assert [p.id for p in planted] == [41]


def test_the_last_expression_stays_an_expression_so_ipython_still_displays_it():
    src = "clf = Model()\nclf.fit(1)\n"
    tree, _ = instrument(ast.parse(src), sites_for(src, {"clf.fit": "fit"}), 1)
    assert isinstance(tree.body[-1], ast.Expr) and len(tree.body) == 2


def test_the_analysed_tree_is_left_untouched_and_unrelated_statements_are_shared():
    src = "def train(m, X):\n    return m.fit(X)\n\nunrelated = [i for i in range(3)]\nclf = Model()\nclf.fit(1)\n"
    tree = ast.parse(PRELUDE + src)
    before = ast.dump(tree, include_attributes=True)
    sites = sites_for(PRELUDE + src, {"m.fit": "fit", "clf.fit": "fit"})
    new, planted = instrument(tree, sites, 1)
    assert len(planted) == 2 and new is not tree
    assert ast.dump(tree, include_attributes=True) == before  # the analysis keeps reading this one
    unrelated = next(i for i, s in enumerate(tree.body) if isinstance(s, ast.Assign)
                     and getattr(s.targets[0], "id", None) == "unrelated")
    assert new.body[unrelated] is tree.body[unrelated]


def test_calls_in_decorators_above_the_def_line_are_found():
    src = "def deco(v):\n    return lambda f: f\n@deco(score(1, 2))\ndef f():\n    pass\n"
    _, planted = instrument(ast.parse(PRELUDE + src), sites_for(PRELUDE + src, {"score": "metric"}), 1)
    assert [p.kind for p in planted] == ["metric"]


def test_calls_in_function_bodies_get_one_deferred_hook_unless_a_site_is_there():
    src = "def train(m, X):\n    m.fit(X)\n    return score(X, X)\nclf = Model()\nclf.fit(1)\n"
    tree = ast.parse(PRELUDE + src)
    in_functions = [dataclasses.replace(s, ref="") for s in sites_for(PRELUDE + src, {"m.fit": "fit", "score": "metric"})]
    own = sites_for(PRELUDE + src, {"clf.fit": "fit"}) + [in_functions[1]]  # score(...) is also a site of the cell
    own[-1] = dataclasses.replace(own[-1], ref="metric:1")
    new_tree, planted = instrument(tree, own, 1, in_functions)
    assert sorted((p.kind, p.deferred, p.site.ref) for p in planted) == [
        ("fit", False, "x"), ("fit", True, ""), ("metric", False, "metric:1")]
    ast.fix_missing_locations(new_tree)
    hooks = Recorder()
    ns = {HOOKS_NAME: hooks}
    exec(compile(new_tree, "<cell>", "exec"), ns)
    ns["train"](ns["clf"], 7)
    deferred = next(p for p in planted if p.deferred)
    assert ("fit", deferred.id, ns["clf"]) in hooks.events and ("a", deferred.id, 0, 7) in hooks.events


def test_sites_in_long_blocks_on_shared_lines_and_under_decorators_are_all_found():
    src = ("clf = Model()\n" + "".join(f"v{i} = trace({i})\n" for i in range(30))
           + "a = trace(0); clf.fit(1)\n"
           + "def deco():\n    clf.fit(2)\n    return lambda f: f\n@deco()\ndef g():\n    return score(3, 4)\n")
    ns, hooks, planted = run(src, {"clf.fit": "fit", "score": "metric", "deco": "read"}, True)
    assert sorted(p.kind for p in planted) == ["fit", "fit", "metric", "read"]
    ns["g"]()
    assert {e[0] for e in hooks.events} >= {"fit", "metric", "read"}
