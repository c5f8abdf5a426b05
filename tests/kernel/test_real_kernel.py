"""flock in a real ipykernel, driven through jupyter_client: load, run a cell, talk over the comm."""

from __future__ import annotations

import os
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

TIMEOUT = 60


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name="python3", env=dict(os.environ))
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute(kc, code):
    """Run code, return (reply content, stream text, list of iopub messages)."""
    msg_id = kc.execute(code)
    stream, messages = [], []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "stream":
            stream.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    return reply["content"], "".join(stream), messages


def comm_request(kc, data):
    """Open a `flock` comm with a request and return the kernel's first comm_msg answer."""
    comm_id = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "flock", "data": data})
    kc.shell_channel.send(msg)
    while True:
        reply = kc.get_iopub_msg(timeout=TIMEOUT)
        if reply["msg_type"] == "comm_msg" and reply["content"]["comm_id"] == comm_id:
            return reply["content"]["data"]
        if reply["msg_type"] == "comm_close" and reply["content"]["comm_id"] == comm_id:
            return None


def test_load_ext_and_a_cell_in_a_real_kernel(kernel):
    content, _, _ = execute(kernel, "%load_ext flock")
    assert content["status"] == "ok"
    content, text, _ = execute(kernel, "total = sum(range(10))\nprint(total)")
    assert content["status"] == "ok" and text == "45\n"
    _, text, _ = execute(kernel, "%flock status")
    assert "flock 0.1.0: on" in text and "connected kernel" in text


def test_comm_target_answers_status_and_rejects_bad_requests(kernel):
    assert execute(kernel, "%load_ext flock")[0]["status"] == "ok"
    info = kernel.comm_info(target_name="flock")
    assert kernel.get_shell_msg(timeout=TIMEOUT)["parent_header"]["msg_id"] == info

    status = comm_request(kernel, {"id": "r1", "type": "status"})
    assert status["type"] == "status" and status["loaded"] is True and status["id"] == "r1"

    bad = comm_request(kernel, {"id": "r2", "type": "launch-missiles"})
    assert bad["type"] == "error" and bad["id"] == "r2" and "type" in bad["error"]


def test_unload_removes_the_comm_target(kernel):
    execute(kernel, "%load_ext flock")
    execute(kernel, "%unload_ext flock")
    msg_id = kernel.comm_info(target_name="flock")
    reply = kernel.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    content, _, _ = execute(kernel, "get_ipython().kernel.comm_manager.targets.get('flock') is None")
    assert content["status"] == "ok"
    _, _, msgs = execute(kernel, "print(get_ipython().kernel.comm_manager.targets.get('flock') is None)")
    assert any(m["msg_type"] == "stream" and m["content"]["text"] == "True\n" for m in msgs)
