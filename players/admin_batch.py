"""Admin for batch jobs: their progress (chunks and players done of the total) and chunks."""

from django.contrib import admin

from config.admin import ReadOnlyAdminMixin
from players.models import BatchChunk, BatchJob


class BatchChunkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BatchChunk
    fields = readonly_fields = (
        "index", "first_id", "last_id", "players", "result", "worker", "finished_at",
    )  # fmt: skip
    extra = 0


@admin.register(BatchJob)
class BatchJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id", "kind", "status", "progress", "players_done", "players_total", "result",
        "created_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    inlines = [BatchChunkInline]

    @admin.display(description="chunks done")
    def progress(self, job: BatchJob) -> str:
        return f"{job.chunks_done} / {job.chunks_total}"
