"""Submission: plans become groups, and placed jobs become prompts on servers.

A request is planned (request_plan.py), checked against the servers' node lists, built into a
`Group` of `Job`s and registered with the dispatcher. When the dispatcher places a job,
`prepare` gives it a prompt id and an attempt under the lock (the dispatch loop journals that
before any POST), and `send` stages the input and POSTs the prompt on the worker pool, asking
for no live previews when this process can never show one (`previews=False`: preview_method.py).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Optional, Tuple

from nuke_comfyui.core.comfy.preview_method import Policy, extra_data_for
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.pool.image_caps import server_image_capabilities
from nuke_comfyui.core.scheduler import attempt as net
from nuke_comfyui.core.scheduler import server_ids
from nuke_comfyui.core.scheduler.batch_plan import server_classes
from nuke_comfyui.core.scheduler.failures import classify_submit_error
from nuke_comfyui.core.scheduler.group import Group
from nuke_comfyui.core.scheduler.jobs import ACTIVE, Job, JobState
from nuke_comfyui.core.scheduler.plan import GroupPlan
from nuke_comfyui.core.scheduler.recovery import Recovery
from nuke_comfyui.core.scheduler.results import OutputLayout, group_folder
from nuke_comfyui.core.scheduler.state import SchedulerState
from nuke_comfyui.core.scheduler.transfer import InputTransfer

log = logging.getLogger(__name__)

PlanFactory = Callable[[Any, str], GroupPlan]


class Submission:
    """Builds groups from plans and sends placed jobs to their servers."""

    def __init__(self, state: SchedulerState, recovery: Recovery,
                 plan_factory: Optional[PlanFactory] = None, *, capability_wait: float = 10.0,
                 previews: Policy = True, watching: Callable[[], bool] = lambda: False) -> None:
        self.state = state
        self.capability_wait = capability_wait
        self.recovery = recovery
        self._plan_factory = plan_factory
        self._transfer = InputTransfer()
        self.previews = previews
        self._watching = watching  # whether someone watches previews now (for the WHEN_WATCHED policy)

    # -- groups ----------------------------------------------------------------------------------

    def make_plan(self, request: Any, group_id: str) -> GroupPlan:
        """Plan a RenderRequest (or its journaled JSON text, on resume)."""
        factory = self._plan_factory
        if factory is None:
            from nuke_comfyui.core.scheduler.request_plan import plan_for_request

            factory = plan_for_request
        return factory(request, group_id)

    def check_capable(self, plan: GroupPlan) -> None:
        """Raise NoCapableServer now rather than leave a group waiting forever.

        Right after start the servers' node lists may not be read yet; wait for them, within
        `capability_wait` seconds, so a workflow no server can run fails here, by name.
        """
        pool = self.state.pool
        from nuke_comfyui.core.preflight import check_server_names

        check_server_names(getattr(plan, "servers", None), pool.servers())  # from Nuke too, not only the CLI
        placement = self.state.dispatcher.placement_for(plan)
        full = {s.name: 1 << 30 for s in pool.servers()}
        pending = getattr(pool, "capabilities_pending", None)
        deadline = time.monotonic() + self.capability_wait
        while True:
            pool.choose(placement, full)  # raises NoCapableServer when every known server lacks something
            if pending is None or not pending() or time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    @staticmethod
    def build_group(plan: GroupPlan, group_id: str, created: Optional[float] = None) -> Group:
        group = Group(group_id, label=plan.label, output_dir=plan.output_dir, request=plan.request_json,
                      plan=plan, created=created)
        group.timeout = plan.timeout
        if plan.layout is None:
            plan.layout = OutputLayout(group_folder(plan.output_dir, plan.label, group_id), plan.label,
                                       tuple(plan.output_nodes))
        for spec in plan.specs:
            job = Job(group, spec.index, frame=spec.frame, variation=spec.variation, seed=spec.seed,
                      input_path=spec.input_path,
                      depends_on=tuple(f"{group_id}.{i}" for i in spec.depends_on))
            if job.depends_on:
                job.state = JobState.BLOCKED
            group.add(job)
        for job in group.jobs:
            for dep_id in job.depends_on:
                dep = group.by_id[dep_id]
                if dep.dependents is None:
                    dep.dependents = []
                dep.dependents.append(job)
                job.deps_left += 1
        return group

    def register(self, group: Group, restored: bool = False) -> None:
        """Make a group's queued children available to the dispatcher (under the lock)."""
        s = self.state
        s.groups[group.id] = group
        s.dispatcher.add_group(group)
        for job in group.jobs:
            if job.state is JobState.QUEUED:
                s.dispatcher.enqueue(job)
        if restored:
            s.recount_stuck(group)
        s.group_changed(group)

    # -- prompts ---------------------------------------------------------------------------------

    def prepare(self, job: Job, server: str, now: float) -> Tuple[Job, str, str]:
        """Give a placed job its prompt id and attempt (under the lock, journaled before `send`)."""
        s = self.state
        link = s.link(server)
        pid = str(uuid.uuid4())
        job.move(JobState.DISPATCHED)
        job.server = server
        job.prompt_id = pid
        job.watched = link.stream_up
        job.client_id = link.client_id if link.stream_up else f"nkc-{uuid.uuid4().hex}"
        job.dispatched_at = now
        job.progress = 0.0
        current = job.new_attempt(server, pid)
        s.by_prompt[pid] = job
        s.occupying[pid] = server  # the dispatcher already counted it in in_flight
        group = job.group
        group.active.add(job)
        if group.first_dispatch is None:
            group.first_dispatch = now
        max_concurrent = int(getattr(link.config, "max_concurrent", 1) or 1)
        s.push_timer(now + s.timeout_of(job) * (max_concurrent + 1) + 2.0, "start", job, pid)
        s.submitting[pid] = Future()
        s.dirty_attempt(job, current)
        s.job_changed(job)
        return job, server, pid

    def send(self, job: Job, server: str, pid: str) -> None:
        """Stage the input and POST the prompt (worker pool, no lock held during the call)."""
        s = self.state
        link = s.links[server]
        plan = job.group.plan
        try:
            has_class = server_classes(s.pool, server) if plan.batch is not None else None
            images = server_image_capabilities(s.pool, server) if plan.pixels is not None else None
            result = net.submit(plan, job, client=link.client, server=link.config, transfer=self._transfer,
                                prompt_id=pid, client_id=job.client_id or "", has_class=has_class, images=images,
                                extra_data=extra_data_for(self.previews, self._watching))
        except (NukeComfyError, OSError, ValueError) as exc:
            with s.lock:
                self._submit_failed(job, pid, exc)
                self._posted(pid)
            s.wake.set()
            return
        theirs = server_ids.returned_id(result, pid)
        with s.lock:
            if theirs != pid and job.prompt_id == pid and job.state in ACTIVE:
                server_ids.adopt(s, job, pid, theirs)  # a server before 0.3.45 made its own id
                pid = theirs
            current = job.attempt
            if job.prompt_id != pid or job.state not in ACTIVE:
                if job.prompt_id != pid or job.state is JobState.CANCELLED:
                    # Cancelled or pulled back while the POST was in flight: take it off the server.
                    s.tasks.append(lambda: net.cleanup(link.client, [theirs]))
            elif current is not None and current.outcome == "dispatched":
                if pid not in s.occupying:  # the server was given up on while we posted
                    s.occupying[pid] = server
                    s.dispatcher.occupy(server)
                    # Its stream may have closed after the loss, when this prompt did not count there,
                    # so no event will come for it: ask at once whether the server really has it.
                    job.watched = False
                    s.verify.add(server)
                current.outcome = "submitted"
                warnings = getattr(result, "node_errors", None)
                if warnings:
                    dropped = json.dumps(warnings)[:500]
                    current.error = f"ComfyUI dropped invalid output branches: {dropped}"
                s.dirty_attempt(job, current)
            self._posted(pid)
        s.wake.set()

    def _posted(self, pid: str) -> None:
        marker = self.state.submitting.pop(pid, None)
        if marker is not None:
            marker.set_result(None)

    def _submit_failed(self, job: Job, pid: str, exc: BaseException) -> None:
        if job.prompt_id != pid or job.state not in ACTIVE or job.attempt is None:
            self.state.release(pid)
            return
        log.info("job %s: submit to %s failed: %s", job.id, job.server, exc)
        self.state.release(pid)
        self.recovery.apply_verdict(job, pid, classify_submit_error(exc))
