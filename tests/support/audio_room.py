"""A virtual room for audio tests: a private PulseAudio server with null sinks.

Sinks: `box_speaker` (48 kHz, where the box plays), `box_speaker_44k` (a 44.1 kHz speaker) and
`room` (where a virtual user speaks; the box's microphone is `room.monitor`). Optional echo
carries the box's speaker back into the room through module-loopback at a chosen level.

PortAudio reaches PulseAudio through the ALSA `pulse` plugin. We define one named ALSA device
per sink and monitor (vg_box_speaker, vg_box_speaker_monitor, vg_room, vg_room_monitor, ...) so
code under test chooses devices by name, exactly as a user would.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import ClassVar

import numpy as np

SINKS = {"box_speaker": 48000, "box_speaker_44k": 44100, "room": 48000}
ENV_KEYS = ("PULSE_SERVER", "PULSE_CLIENTCONFIG", "ALSA_CONFIG_PATH", "PULSE_RUNTIME_PATH")


def pulseaudio_missing_reason() -> str | None:
    """Why the room cannot be built here, or None if it can."""
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)"
    return None


def alsa_device(sink_or_source: str) -> str:
    """ALSA/PortAudio device name for a sink ('room') or a monitor ('room.monitor')."""
    return "vg_" + sink_or_source.replace(".", "_")


class Recording:
    """Audio captured from one PulseAudio source, with each sample's time on time.monotonic()."""

    # Recordings not yet stopped. A test that fails between starting and stopping one would
    # leave its PortAudio callback running into later tests (and, at exit, crash the
    # interpreter), so a fixture stops whatever is left after every test.
    running: ClassVar[set[Recording]] = set()

    def __init__(self, device: str, sample_rate_hz: int = 48000, block_seconds: float = 0.02):
        import sounddevice as sd

        self.sample_rate_hz = sample_rate_hz
        self._chunks: list[np.ndarray] = []
        self._arrivals: list[tuple[float, int]] = []
        self._count = 0
        self._lock = threading.Lock()
        self._stream = sd.InputStream(
            device=device,
            samplerate=sample_rate_hz,
            channels=1,
            dtype="float32",
            blocksize=round(sample_rate_hz * block_seconds),
            latency="low",
            callback=self._callback,
        )
        self._stream.start()
        Recording.running.add(self)

    def _callback(self, indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        arrived = time.monotonic()
        with self._lock:
            self._chunks.append(indata[:, 0].copy())
            self._count += frames
            self._arrivals.append((arrived, self._count))

    @property
    def frames_received(self) -> int:
        """How many frames have arrived so far."""
        return self._count

    def stop(self) -> tuple[np.ndarray, float]:
        """Stop; return (samples, start_time): sample i was captured at about start + i/rate.

        For long recordings use time_of(), which also follows clock drift.
        """
        if self in Recording.running:
            Recording.running.discard(self)
            self._stream.stop()
            self._stream.close()
        with self._lock:
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return samples, float(self.time_of(np.zeros(1))[0])

    def time_of(self, index: np.ndarray, window_seconds: float = 10.0) -> np.ndarray:
        """time.monotonic() at which each sample index was captured.

        Sample n arrived no earlier than it was captured, so each arrival bounds the time of
        sample 0 from above, and the least-delayed arrival is the tightest bound. Taking that
        bound per window and interpolating between windows also follows a sound card (or
        PulseAudio null sink) whose clock runs a little fast or slow against time.monotonic().
        """
        with self._lock:
            arrivals = np.array(self._arrivals, dtype=np.float64)
        if len(arrivals) == 0:
            return np.zeros(len(index))
        counts = arrivals[:, 1]
        implied = arrivals[:, 0] - counts / self.sample_rate_hz
        window = np.floor((counts / self.sample_rate_hz) / window_seconds).astype(int)
        knots_n, knots_t = [], []
        for w in np.unique(window):
            members = np.nonzero(window == w)[0]
            best = members[np.argmin(implied[members])]
            knots_n.append(counts[best])
            knots_t.append(implied[best])
        offset = np.interp(np.asarray(index, dtype=np.float64), knots_n, knots_t)
        return offset + np.asarray(index, dtype=np.float64) / self.sample_rate_hz


class AudioRoom:
    """A private PulseAudio server with a box speaker and a room, for audio tests and benches."""

    def __init__(self) -> None:
        reason = pulseaudio_missing_reason()
        if reason:
            raise RuntimeError(reason)
        self.dir = Path(tempfile.mkdtemp(prefix="voiceguide-room-"))
        self.socket = self.dir / "native"
        self._saved_env = {k: os.environ.get(k) for k in ENV_KEYS}
        self._echo_module: int | None = None
        self._write_configs()
        self._daemon = self._start_daemon()
        self._keepers = self._start_keepers()
        self._apply_env()
        from voiceguide.audio.devices import refresh_devices

        refresh_devices()  # PortAudio lists devices only at start-up
        self._wait_until_live()

    # ---- set-up ----

    def _write_configs(self) -> None:
        script = [
            "load-module module-native-protocol-unix auth-anonymous=1 socket=" + str(self.socket)
        ]
        for name, rate in SINKS.items():
            script.append(
                f"load-module module-null-sink sink_name={name} rate={rate} "
                f"sink_properties=device.description={name}"
            )
        script += ["set-default-sink box_speaker", "set-default-source room.monitor"]
        (self.dir / "default.pa").write_text("\n".join(script) + "\n")
        (self.dir / "client.conf").write_text("autospawn = no\n")
        alsa = []
        for name in SINKS:
            for pulse_name in (name, f"{name}.monitor"):
                alsa.append(
                    f'pcm.{alsa_device(pulse_name)} {{ type pulse; device "{pulse_name}" }}'
                )
        (self.dir / "asound.conf").write_text("\n".join(alsa) + "\n")

    def _start_daemon(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.dir),
            XDG_RUNTIME_DIR=str(self.dir),
            XDG_CONFIG_HOME=str(self.dir),
            PULSE_RUNTIME_PATH=str(self.dir / "runtime"),
            PULSE_STATE_PATH=str(self.dir / "state"),
        )
        command = [
            "pulseaudio",
            "-n",
            "-F",
            str(self.dir / "default.pa"),
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--realtime=no",
            "--high-priority=no",
            "--log-target=file:" + str(self.dir / "pulseaudio.log"),
        ]
        # As root PulseAudio warns but still runs per-user with these paths: no --system.
        daemon = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if daemon.poll() is not None:
                log = (self.dir / "pulseaudio.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"pulseaudio exited ({daemon.returncode}):\n{log}")
            if self.socket.exists() and self._pactl("info", check=False).returncode == 0:
                return daemon
            time.sleep(0.05)
        daemon.kill()
        raise RuntimeError("pulseaudio did not start within 15 s")

    def _start_keepers(self) -> list[subprocess.Popen[bytes]]:
        """Hold a low-latency recorder on every monitor for the room's lifetime.

        An idle null sink renders in blocks of up to 2 s, so the first recorder to attach waits
        that long for data; a permanent low-latency reader keeps every sink in short blocks.
        """
        env = dict(os.environ, PULSE_SERVER=f"unix:{self.socket}")
        env["PULSE_CLIENTCONFIG"] = str(self.dir / "client.conf")
        return [
            subprocess.Popen(
                ["parec", f"--device={name}.monitor", "--latency-msec=20", "--raw"],
                env=env,
                stdout=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
            for name in SINKS
        ]

    def _wait_until_live(self, timeout_s: float = 10.0) -> None:
        """Wait until every monitor delivers audio promptly (see _start_keepers)."""
        probes = [self.record(f"{name}.monitor") for name in SINKS]
        try:
            deadline = time.monotonic() + timeout_s
            while not all(p.frames_received for p in probes):
                if time.monotonic() > deadline:
                    raise RuntimeError("PulseAudio monitors delivered no audio within 10 s")
                time.sleep(0.02)
        finally:
            for probe in probes:
                probe.stop()

    def _apply_env(self) -> None:
        os.environ["PULSE_SERVER"] = f"unix:{self.socket}"
        os.environ["PULSE_CLIENTCONFIG"] = str(self.dir / "client.conf")
        os.environ["PULSE_RUNTIME_PATH"] = str(self.dir / "runtime")
        default_alsa = "/usr/share/alsa/alsa.conf"
        os.environ["ALSA_CONFIG_PATH"] = f"{default_alsa}:{self.dir / 'asound.conf'}"

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should use this room."""
        return {k: os.environ[k] for k in ENV_KEYS if k in os.environ}

    def _pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PULSE_SERVER=f"unix:{self.socket}")
        env["PULSE_CLIENTCONFIG"] = str(self.dir / "client.conf")
        return subprocess.run(
            ["pactl", *args], env=env, check=check, capture_output=True, text=True, timeout=10
        )

    def pactl_rows(self, kind: str) -> list[list[str]]:
        """`pactl list short KIND` as rows of tab-separated fields."""
        out = self._pactl("list", "short", kind).stdout
        return [line.split("\t") for line in out.splitlines() if line.strip()]

    def sink_module(self, sink: str) -> str | None:
        """Index of the module that created null sink `sink`, if it is loaded."""
        for fields in self.pactl_rows("modules"):
            if len(fields) > 2 and f"sink_name={sink} " in fields[2] + " ":
                return fields[0]
        return None

    def source_index(self, name: str) -> str | None:
        """Index of source `name` (such as 'room.monitor'), if it exists."""
        rows = self.pactl_rows("sources")
        return next((f[0] for f in rows if len(f) > 1 and f[1] == name), None)

    def monitor_keepers(self, sink: str) -> list[str]:
        """The room's permanent recorders on `sink`'s monitor (see _start_keepers), by index."""
        monitor = self.source_index(f"{sink}.monitor")
        rows = self.pactl_rows("source-outputs")
        return [f[0] for f in rows if len(f) > 1 and f[1] == monitor]

    # ---- the room ----

    def record(self, source: str, sample_rate_hz: int = 48000) -> Recording:
        """Start recording a PulseAudio source such as 'box_speaker.monitor'."""
        return Recording(alsa_device(source), sample_rate_hz)

    def record_speaker(self, sample_rate_hz: int = 48000, sink: str = "box_speaker") -> Recording:
        """Start recording what the box plays (the speaker sink's monitor)."""
        return self.record(f"{sink}.monitor", sample_rate_hz)

    def record_room(self, sample_rate_hz: int = 16000) -> Recording:
        """Start recording what the box's microphone hears."""
        return self.record("room.monitor", sample_rate_hz)

    def play_into_room(self, wav: Path, wait: bool = True) -> subprocess.Popen[bytes]:
        """Play a WAV file into the room, as a person speaking would."""
        env = dict(os.environ, PULSE_SERVER=f"unix:{self.socket}")
        player = subprocess.Popen(["paplay", "--device=room", str(wav)], env=env)
        if wait:
            player.wait(timeout=120)
        return player

    def set_echo(self, db: float | None, latency_ms: int = 20) -> None:
        """Carry the box's speaker into the room at `db` (e.g. -12), or no echo for None."""
        if self._echo_module is not None:
            self._pactl("unload-module", str(self._echo_module))
            self._echo_module = None
        if db is None:
            return
        loaded = self._pactl(
            "load-module",
            "module-loopback",
            "source=box_speaker.monitor",
            "sink=room",
            f"latency_msec={latency_ms}",
            "adjust_time=0",  # a fixed delay, as air is: no rate adaptation
            "source_dont_move=true",
            "sink_dont_move=true",
        )
        self._echo_module = int(loaded.stdout.strip())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            # The short listing has no owner column; the long one names each input's module.
            listing = self._pactl("list", "sink-inputs").stdout
            for block in listing.split("Sink Input #")[1:]:
                index = block.split(None, 1)[0]
                if f"Owner Module: {self._echo_module}\n" in block:
                    self._pactl("set-sink-input-volume", index, f"{db}dB")
                    return
            time.sleep(0.05)
        raise RuntimeError("the echo loopback did not appear")

    def close(self) -> None:
        """Stop the server and restore the environment."""
        for keeper in self._keepers:
            keeper.terminate()
            keeper.wait(timeout=5)
        self._daemon.terminate()
        try:
            self._daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._daemon.kill()
            self._daemon.wait()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            from voiceguide.audio.devices import refresh_devices

            refresh_devices()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def rms(samples: np.ndarray) -> float:
    """Root-mean-square level of a signal."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dBFS (-inf for digital silence)."""
    level = rms(samples)
    return 20 * math.log10(level) if level > 0 else -math.inf


def envelope(samples: np.ndarray, sample_rate_hz: int, window_seconds: float = 0.005) -> np.ndarray:
    """Peak level per window: a cheap envelope for finding speech onsets and silence."""
    window = max(1, round(sample_rate_hz * window_seconds))
    usable = len(samples) // window * window
    return np.abs(samples[:usable]).reshape(-1, window).max(axis=1)


def sound_spans(
    samples: np.ndarray,
    sample_rate_hz: int,
    threshold: float = 0.01,
    min_gap_seconds: float = 0.25,
    window_seconds: float = 0.005,
) -> list[tuple[float, float]]:
    """(start, end) seconds of stretches above `threshold`, merging gaps shorter than min_gap."""
    env = envelope(samples, sample_rate_hz, window_seconds)
    loud = np.nonzero(env > threshold)[0]
    spans: list[tuple[float, float]] = []
    for index in loud:
        start, end = index * window_seconds, (index + 1) * window_seconds
        if spans and start - spans[-1][1] < min_gap_seconds:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
