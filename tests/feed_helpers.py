"""Brokers and publishers for the feed's tests: the machine's Mosquitto, or one started here on a free port."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from dashboard.feed.subscriber import broker

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def answers(url: str) -> bool:
    b = broker(url)
    try:
        socket.create_connection((b.host, b.port), timeout=1).close()
        return True
    except OSError:
        return False


class Mosquitto:
    """A broker of our own that keeps sessions and queued messages on disk, so it can be restarted."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.url = f"mqtt://127.0.0.1:{port}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nautosave_interval 1\nmax_queued_messages 0\n"
            f"max_inflight_messages 0\nlog_dest file {folder}/mosquitto.log\n"
            # Started as root, mosquitto would switch to its own user, which cannot write in this folder.
            f"user {getpass.getuser()}\n"
        )
        self.conf = conf
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not answers(self.url):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()[-500:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its sessions and queued messages
            self.proc.wait(10)


def machine_broker_url() -> str | None:
    url = os.environ.get("TEST_MQTT_URL") or "mqtt://127.0.0.1:1883"
    return url if answers(url) else None


class Publisher:
    """QoS 1 on a persistent session: what the broker has not acknowledged is sent again after a reconnect."""

    def __init__(self, url: str, client_id: str) -> None:
        b = broker(url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.connect(b.host, b.port, keepalive=10)
        self.client.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def send(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.infos.append(self.client.publish(topic, payload, qos=qos))

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for info in self.infos:
            while not info.is_published():
                if time.monotonic() > deadline:
                    raise TimeoutError("the broker did not acknowledge every message")
                time.sleep(0.01)
        self.infos.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(cond, timeout: float = 30, what: str = "the feed") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not get there in {timeout} s")
        time.sleep(0.05)


def settle(sub, expected: int, timeout: float = 30) -> None:  # noqa: ANN001
    """Wait until the feed has taken ``expected`` messages (accepted or refused) and written them all."""
    wait_until(lambda: sub.tracker.accepted + sum(sub.tracker.rejected.values()) >= expected, timeout)
    wait_until(lambda: not sub.queue and not sub.unwritten, timeout)
    n = sub.cycles
    wait_until(lambda: sub.cycles >= n + 2, timeout)  # two more write cycles


def forget_session(url: str, client_id: str) -> None:
    """Drop a test feed's persistent session from a shared broker."""
    b = broker(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(b.host, b.port)
    c.loop_start()
    c.disconnect()
    c.loop_stop()
