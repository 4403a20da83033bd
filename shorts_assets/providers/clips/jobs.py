"""One asynchronous-job protocol for every video generator: submit, remember, poll, download, verify.

A provider (see ``video_gen``) knows how to submit one scene, read a job's status and fetch its
output. ``VideoJobs`` does the rest the same way for all of them:

- the job id is written to the ``StateStore`` the moment the provider returns it, keyed by the
  provider, the video id and the scene index, with a fingerprint of what was asked;
- a later attempt (after a crash, a timeout or a retry of the run) finds that record and resumes
  polling the same job instead of submitting, and paying, again; a changed scene submits anew;
- polling waits what the provider hints (``JobStatus.poll_after_s``), else backs off from
  ``poll_interval_s`` to ``max_poll_interval_s``, for at most ``timeout_s`` of waiting;
- the output is downloaded into place atomically and must decode as a video through to the end its
  header states (a download already in place is kept only while it still reads through);
- a failed job, or one the provider no longer knows, is forgotten, so the next attempt submits;
- a submission is claimed first (``StateStore.put_new``), so of several runs of one partition that
  reach a scene together exactly one submits and pays; the others wait for its job id and poll the
  same job. A claim whose owner died before recording the id lapses after ``CLAIM_TTL_S`` (the job
  it may have created cannot be found again: providers offer no lookup by our id).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.state import StateStore, load_record, save_record
from shorts_assets.core.types import Clip, Scene
from shorts_assets.providers.media import atomic_output, verify_complete

logger = logging.getLogger(__name__)

NAMESPACE = "video_jobs"
# Who is submitting a scene's job right now: of concurrent runs one submits, the others wait for its id.
CLAIMS = "video_job_claims"
# A claim older than this belongs to a run that died between claiming and recording its job id.
CLAIM_TTL_S = 120.0

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class JobStatus:
    state: str  # PENDING | RUNNING | SUCCEEDED | FAILED
    progress: float | None = None  # 0..1 when the provider says
    poll_after_s: float | None = None  # the provider's hint for the next poll
    output_url: str | None = None  # where the finished video is, for providers that give a URL
    reason: str | None = None  # why the job failed


class NotReady(ProviderError):
    """The job reports success but its output cannot be fetched yet."""


class JobGone(ProviderError):
    """The provider no longer knows the job, or its output has expired: it must be submitted again."""


class JobProvider(Protocol):
    name: str

    def submit(self, video_id: str, index: int, scene: Scene) -> str:
        """Start generating ``scene`` (1-based ``index``) and return the provider's job id."""

    def poll(self, job_id: str, what: str) -> JobStatus: ...

    def download(self, job_id: str, status: JobStatus, dest: Path, what: str) -> None:
        """Write the finished video of ``job_id`` to ``dest``."""

    def close(self) -> None: ...


def fingerprint(provider: str, scene: Scene) -> str:
    text = json.dumps([provider, scene.prompt, scene.duration_s], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class VideoJobs:
    """Runs scenes through one provider's jobs, durably (see the module docstring)."""

    def __init__(
        self,
        provider: JobProvider,
        state: StateStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 5.0,
        max_poll_interval_s: float = 30.0,
        timeout_s: float = 1200.0,
        download_attempts: int = 5,
    ) -> None:
        self.provider = provider
        self.state = state
        self.sleep = sleep
        self.poll_interval_s = poll_interval_s
        self.max_poll_interval_s = max_poll_interval_s
        self.timeout_s = timeout_s
        self.download_attempts = download_attempts

    def key(self, video_id: str, index: int) -> str:
        return f"{self.provider.name}:{video_id}:{index}"

    def _what(self, video_id: str, index: int) -> str:
        return f"video {video_id}, scene {index}"

    def _record(self, video_id: str, index: int) -> dict | None:
        return load_record(self.state, NAMESPACE, self.key(video_id, index), "job_id")

    def _put(self, video_id: str, index: int, record: dict) -> None:
        save_record(self.state, NAMESPACE, self.key(video_id, index), record)

    def existing(self, video_id: str, index: int, scene: Scene, path: Path) -> Clip | None:
        """The clip already downloaded for this very scene, if it is still in place and readable."""
        record = self._record(video_id, index)
        if (
            record is None
            or record.get("state") != "done"
            or record.get("fingerprint") != fingerprint(self.provider.name, scene)
            or not path.is_file()
        ):
            return None
        try:
            info = verify_complete(path, f"the clip at {path}")
        except ProviderError:
            return None
        if not info.has_video or not info.width or not info.height:
            return None
        return Clip(path=path, duration_s=info.duration_s, width=info.width, height=info.height)

    def start(self, video_id: str, index: int, scene: Scene) -> str:
        """The job id for this scene: the recorded one when there is one, else a new submission."""
        mark = fingerprint(self.provider.name, scene)
        key = self.key(video_id, index)
        deadline = time.monotonic() + CLAIM_TTL_S
        while True:
            record = self._record(video_id, index)
            if record is not None and record.get("fingerprint") == mark:
                logger.info("%s: resuming %s job %s", self._what(video_id, index), self.provider.name, record["job_id"])
                return str(record["job_id"])
            claim = json.dumps({"fingerprint": mark, "at": time.time()})
            if self.state.put_new(CLAIMS, key, claim):
                record = self._record(video_id, index)  # recorded by a run that released its claim just now
                if record is not None and record.get("fingerprint") == mark:
                    self.state.delete(CLAIMS, key)
                    return str(record["job_id"])
                break
            held = load_record(self.state, CLAIMS, key, "at") or {}
            if held.get("fingerprint") != mark or time.time() - float(held.get("at", 0)) > CLAIM_TTL_S:
                self.state.delete(CLAIMS, key)  # a claim for another scene, or its owner died
                continue
            if time.monotonic() > deadline:
                raise ProviderError(
                    f"{self._what(video_id, index)}: another run has been submitting this scene's "
                    f"{self.provider.name} job for over {CLAIM_TTL_S:.0f} s; the next attempt resumes it"
                )
            time.sleep(0.5)  # real time: the other run's submission is a real request
        try:
            job_id = self.provider.submit(video_id, index, scene)
            self._put(
                video_id,
                index,
                {"job_id": job_id, "fingerprint": mark, "state": "submitted", "submitted_at": time.time()},
            )
        finally:
            self.state.delete(CLAIMS, key)
        return job_id

    def finish(self, video_id: str, index: int, scene: Scene, path: Path) -> Clip:
        """Wait for the scene's job, download its video to ``path`` and verify it."""
        what = self._what(video_id, index)
        job_id = self.start(video_id, index, scene)
        try:
            status = self._wait(job_id, what)
            clip = self._download(job_id, status, path, what)
        except JobGone:
            self.state.delete(NAMESPACE, self.key(video_id, index))
            raise
        record = self._record(video_id, index) or {
            "job_id": job_id,
            "fingerprint": fingerprint(self.provider.name, scene),
        }
        record.update(state="done", path=path.name)  # no machine's folder in the database
        self._put(video_id, index, record)
        return clip

    def _wait(self, job_id: str, what: str) -> JobStatus:
        waited = 0.0
        polls = 0
        name = self.provider.name
        while True:
            status = self.provider.poll(job_id, what)
            if status.state == SUCCEEDED:
                return status
            if status.state == FAILED:
                raise JobGone(f"{what}: {name} job {job_id} failed: {status.reason or 'no reason given'}")
            if status.poll_after_s is not None:
                delay = max(0.0, status.poll_after_s)
            else:
                delay = min(self.max_poll_interval_s, self.poll_interval_s * 1.5**polls)
            if waited + delay > self.timeout_s:
                raise ProviderError(
                    f"{what}: {name} job {job_id} still {status.state} after {waited:.0f} s of waiting; "
                    "it stays recorded and the next attempt resumes it"
                )
            self.sleep(delay)
            waited += delay
            polls += 1

    def _download(self, job_id: str, status: JobStatus, path: Path, what: str) -> Clip:
        for attempt in range(1, self.download_attempts + 1):
            try:
                with atomic_output(path) as temp:
                    self.provider.download(job_id, status, temp, what)
                    try:
                        info = verify_complete(temp, f"{what}: {self.provider.name} job {job_id}", decode=True)
                    except ProviderError as exc:
                        raise ProviderError(
                            f"{what}: {self.provider.name} job {job_id} gave a file that is not a video, or not a whole one: {exc}"
                        ) from None
                    if not info.has_video or not info.width or not info.height:
                        raise ProviderError(f"{what}: {self.provider.name} job {job_id} gave a file with no video")
                return Clip(path=path, duration_s=info.duration_s, width=info.width, height=info.height)
            except NotReady as exc:
                if attempt == self.download_attempts:
                    raise ProviderError(
                        f"{exc}; gave up after {attempt} attempts; the next attempt resumes the job"
                    ) from None
                self.sleep(min(self.max_poll_interval_s, self.poll_interval_s * 1.5 ** (attempt - 1)))
        raise AssertionError("unreachable")
