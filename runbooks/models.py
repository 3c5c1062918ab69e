"""Runbooks and their runs (docs/runbooks.md).

A ``Runbook`` is an ordered list of ``Step`` rows; every edit raises its ``version``. A
``RunbookRun`` copies the steps it runs into its ``StepRun`` rows when it starts, so a runbook
edited while a run is in flight never changes that run: the run keeps the version it started with.
State changes go through ``runbooks.runs`` only; these are fields, constraints and cheap properties.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident

NAME_MAX = 200
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
STEPS_MAX = 100
TRUNCATION_MARKER = "\n… [output truncated: {cut} more bytes not kept]"


class Action(models.TextChoices):
    HTTP_CHECK = "http_check", "HTTP check"
    HTTP_REQUEST = "http_request", "HTTP request"
    TCP_CHECK = "tcp_check", "TCP check"
    COMMAND = "command", "Command"
    WAIT = "wait", "Wait"
    MANUAL = "manual", "Manual step"
    APPROVAL = "approval", "Approval"
    NOTIFY = "notify", "Notify"


class OnFailure(models.TextChoices):
    STOP = "stop", "Stop the run"
    CONTINUE = "continue", "Continue with the next step"


class Runbook(models.Model):
    name = models.CharField(max_length=NAME_MAX, unique=True)
    description = models.TextField(blank=True, max_length=DESCRIPTION_MAX)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    action = models.CharField(max_length=32, choices=Action.choices)
    params = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=30)
    retries = models.PositiveSmallIntegerField(default=0)
    on_failure = models.CharField(max_length=16, choices=OnFailure.choices, default=OnFailure.STOP)
    needs_approval = models.BooleanField(default=False)

    class Meta:
        ordering = ["runbook", "order"]
        constraints = [models.UniqueConstraint(fields=["runbook", "order"], name="runbook_step_order_unique")]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Trigger(models.Model):
    """Attach the runbook to incidents whose labels match ``matchers`` (and whose severity is in
    ``severities``, when any are listed); ``auto_start`` starts it when such an incident opens,
    otherwise the incident page suggests it."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="triggers")
    matchers = models.JSONField(default=list, blank=True)
    severities = models.JSONField(default=list, blank=True)
    auto_start = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Trigger of {self.runbook}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    WAITING_APPROVAL = "waiting_approval", "Waiting for a person"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.CANCELLED)


class RunbookRun(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="runbook_runs")
    runbook = models.ForeignKey(Runbook, null=True, on_delete=models.SET_NULL, related_name="runs")
    runbook_name = models.CharField(max_length=NAME_MAX)
    runbook_version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    current_index = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_started = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change of the run or a step that the run panel shows (a worker's claim of a
    # step already shown running is none): the panel's poll answers 204 while it is unchanged.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.runbook_name} v{self.runbook_version} on #{self.incident_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    WAITING_APPROVAL = "waiting_approval", "Waiting for a person"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class StepRun(models.Model):
    """One step of a run: a copy of the step as it was when the run started, and what happened."""

    run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    action = models.CharField(max_length=32, choices=Action.choices)
    params = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=30)
    retries = models.PositiveSmallIntegerField(default=0)
    on_failure = models.CharField(max_length=16, choices=OnFailure.choices, default=OnFailure.STOP)
    needs_approval = models.BooleanField(default=False)

    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    # Attempts handed to a worker (or started by the scheduler); every one is recorded in ``attempt_log``
    # before it can run, and a worker runs attempt N only after claiming it (``claimed_attempt``).
    attempts = models.PositiveIntegerField(default=0)
    claimed_attempt = models.PositiveIntegerField(default=0)
    # ``attempts`` when the current round began (a person's retry starts a new round of ``retries``).
    round_base = models.PositiveIntegerField(default=0)
    attempt_log = models.JSONField(default=list, blank=True)
    output = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A running step not finished by then was lost with its worker: the reaper fails or retries it.
    deadline_at = models.DateTimeField(null=True, blank=True)
    # A `wait` step is done at this time (the scheduler's sweep, not a sleeping worker).
    due_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="runbook_steprun_index_unique")]
        indexes = [
            # The reaper and the wait sweep: running steps by deadline / due time.
            models.Index(fields=["status", "deadline_at"], name="steprun_running_deadline"),
            models.Index(fields=["status", "due_at"], name="steprun_running_due"),
        ]

    def __str__(self) -> str:
        return f"{self.index + 1}. {self.title} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def bound_output(text: str, limit: int | None = None) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 (RUNBOOK_OUTPUT_MAX_BYTES) with a marker saying how
    much was dropped, so a step printing megabytes stores a bounded row and says so."""
    limit = limit if limit is not None else settings.RUNBOOK_OUTPUT_MAX_BYTES
    text = text.replace("\x00", "")
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore") + TRUNCATION_MARKER.format(cut=len(data) - limit)
