"""Import jobs and saved column mappings (SPEC §9)."""

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    PLAYERS = "players"
    ACTIVITY = "activity"
    ROUNDS = "rounds"
    AGGREGATES = "aggregates"


class OnError(models.TextChoices):
    REJECT = "reject", "Reject the file"
    SKIP = "skip", "Skip bad rows"


class OnConflict(models.TextChoices):
    REJECT = "reject", "Refuse rows that change an earlier import"
    REPLACE = "replace", "Replace the earlier rows (analytics only)"


class DateOrder(models.TextChoices):
    DAY_FIRST = "DMY", "Day first (24/12/2025)"
    MONTH_FIRST = "MDY", "Month first (12/24/2025)"


# How a file is read, saved with a template and kept on each job (docs/importing.md).
READING_OPTIONS = (
    "encoding", "delimiter", "sheet", "header_row", "decimal_separator",
    "thousands_separator", "date_order", "time_zone", "on_conflict",
)  # fmt: skip


class ReadingOptions(models.Model):
    """How a file is read: its encoding, delimiter, sheet, header row and number/date style."""

    on_error = models.CharField(max_length=8, choices=OnError.choices, default=OnError.REJECT)
    on_conflict = models.CharField(
        max_length=8, choices=OnConflict.choices, default=OnConflict.REJECT
    )
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    sheet = models.CharField(max_length=64, blank=True, help_text="Name, or position from 1.")
    header_row = models.PositiveIntegerField(
        null=True, blank=True, help_text="Row number of the header; empty: the first row."
    )
    decimal_separator = models.CharField(
        max_length=1, blank=True, help_text="'.' or ','; empty: detected per column."
    )
    thousands_separator = models.CharField(max_length=1, blank=True)
    date_order = models.CharField(
        max_length=3, blank=True, choices=DateOrder.choices, help_text="Empty: detected."
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="Of times without offset; empty: reporting zone."
    )

    class Meta:
        abstract = True


class ImportTemplate(ReadingOptions):
    """A named, reusable column mapping for one kind of file (with its reading options)."""

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=255, blank=True)
    mapping = models.JSONField(default=dict, help_text="Target field -> source (SPEC §10).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ImportLookup(models.Model):
    """A saved value map (uploaded as a two-column file, kept with the templates): a mapping
    field translates its column through it with `{"column": "GAME", "lookup": "<name>"}`."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)
    values = models.JSONField(
        default=dict, blank=True, help_text="Value in the file -> value stored."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ImportJob(ReadingOptions):
    """One uploaded file and its way through the stages of the import chain."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Stage(models.TextChoices):
        PARSE = "parse"
        VALIDATE = "validate"
        LOAD = "load"
        METRICS = "metrics"
        SEGMENTATION = "segmentation"
        RULES = "rules"
        SAFETY = "safety"
        ISSUE = "issue"
        DONE = "done"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.PARSE)
    file = models.FileField(upload_to="imports/", max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=8, blank=True)  # csv | xlsx
    template = models.ForeignKey(
        ImportTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    mapping = models.JSONField(default=dict)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    activities_created = models.PositiveIntegerField(default=0)
    players_created = models.PositiveIntegerField(default=0)
    players_updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text="The first 100 row errors.")
    warnings = models.JSONField(
        default=list, help_text="Unused columns, unmapped fields, currencies without a rate."
    )
    counts = models.JSONField(
        default=dict, help_text="Rows inserted, identical (skipped), conflicting, replaced."
    )
    error_report = models.FileField(upload_to="imports/errors/", max_length=255, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    stages = models.JSONField(default=dict, help_text="Per stage: status, note, timings.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.kind}, {self.original_name})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(100, int(100 * self.rows_done / self.rows_total))
