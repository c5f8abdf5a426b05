"""The side panel's requests in a real kernel: lineage, models, convert, and lineage_updated pushes.

Every reply is validated against flock_nbext/schemas/comm.schema.json.
"""

from __future__ import annotations

import uuid

import jsonschema
import pytest
from jupyter_client.manager import start_new_kernel

from flock_nbext.schemas import load_schema
from tests.kernel.notebook_runner import kernel_env
from tests.kernel.test_real_kernel import TIMEOUT, execute

TRAIN = ("import numpy as np\nfrom sklearn.tree import DecisionTreeClassifier\n"
         "X = np.random.default_rng(0).normal(size=(200, 4))\ny = (X[:, 0] > 0).astype(int)\n"
         "tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)\n%flock flush")


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name="python3", env=kernel_env())
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def validate(message):
    jsonschema.Draft202012Validator(load_schema("comm")).validate(message)
    return message


class Panel:
    """One comm opened the way the side panel opens it; request() waits for the matching reply."""

    def __init__(self, kc):
        self.kc, self.comm_id = kc, uuid.uuid4().hex
        kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": self.comm_id, "target_name": "flock",
                                                           "data": {}}))
        self.pushed = []

    def request(self, data):
        kc = self.kc
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data}))
        while True:
            msg = kc.get_iopub_msg(timeout=TIMEOUT * 3)
            if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == self.comm_id:
                payload = msg["content"]["data"]
                if payload.get("id") == data["id"]:
                    return validate(payload)
                self.pushed.append(validate(payload))


def test_lineage_models_and_convert_over_the_comm(kernel):
    assert execute(kernel, "%load_ext flock")[0]["status"] == "ok"
    content, _, _ = execute(kernel, TRAIN)
    assert content["status"] == "ok"
    panel = Panel(kernel)

    lineage = panel.request({"id": "l1", "type": "lineage"})
    assert lineage["type"] == "lineage" and lineage["lineage"]["schema"] == "flock.lineage/1"

    models = panel.request({"id": "m1", "type": "models"})["models"]
    [tree] = [m for m in models if m["var"] == "tree"]
    assert tree["trained"] and tree["run_id"] and tree["class"].endswith("DecisionTreeClassifier")

    converted = panel.request({"id": "c1", "type": "convert", "model": tree["id"]})
    assert converted["type"] == "convert" and converted["logged"] and converted["run_id"] == tree["run_id"]
    assert any(row.get("chosen") for row in converted["rows"]) and "| candidate" in converted["table"]

    missing = panel.request({"id": "c2", "type": "convert", "model": "model:nope@c9:1"})
    assert missing["type"] == "error" and "nope" in missing["error"]


def test_every_executed_cell_pushes_lineage_updated(kernel):
    assert execute(kernel, "%load_ext flock")[0]["status"] == "ok"
    panel = Panel(kernel)
    panel.request({"id": "s1", "type": "status"})
    _, _, messages = execute(kernel, "x = 1")
    pushes = [m["content"]["data"] for m in messages
              if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == panel.comm_id]
    assert [validate(p) for p in pushes] == [{"type": "lineage_updated"}]
